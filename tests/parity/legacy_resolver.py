"""The one place that turns a dotted legacy name from the golden data into a Python object.

Golden cases name their targets as ``training.<module>.<attr>[.<attr>...]`` (a few name
``torch.optim.AdamW`` and the like). ``training.<module>`` is imported through the real legacy
import path, served by pfdtrain's drop-in shims (``legacy_shims``), exactly as an old script
would import it. The shim's one-time LegacyImportWarning is consumed here, outside any case, so
that cases which record warnings see only what the legacy call itself raised.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from legacy_shims.finder import LegacyLoader
from pfdtrain.errors import LegacyImportWarning

LEGACY_PACKAGE = "training"


def resolve(dotted: str) -> Any:
    """Import the longest importable module prefix of ``dotted`` and walk the remaining attributes."""
    parts = dotted.split(".")
    if parts[0] == LEGACY_PACKAGE:
        if len(parts) < 3:
            raise ValueError(f"expected training.<module>.<name>, got {dotted!r}")
        module = importlib.import_module(f"{LEGACY_PACKAGE}.{parts[1]}")
        if not isinstance(getattr(module.__spec__, "loader", None), LegacyLoader):
            raise RuntimeError(f"{module.__name__} is not served by pfdtrain's shims: {module.__spec__}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LegacyImportWarning)
            first = getattr(module, parts[2])
        obj: Any = first
        for name in parts[3:]:
            obj = getattr(obj, name)
        return obj
    else:
        module, rest = None, parts
        for cut in range(len(parts), 0, -1):
            try:
                module = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            rest = parts[cut:]
            break
        if module is None:
            raise ModuleNotFoundError(f"no importable module prefix in {dotted!r}")
    obj = module
    for name in rest:
        obj = getattr(obj, name)
    return obj
