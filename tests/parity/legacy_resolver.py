"""The one place that turns a dotted legacy name from the golden data into a Python object.

Golden cases name their targets as ``training.<module>.<attr>[.<attr>...]`` (a few name
``torch.optim.AdamW`` and the like). For now ``training.<module>`` resolves to the adapter
``pfdtrain.compat.<module>``; a later change switches this to the real legacy import paths served
by the shim mechanism, without touching the replayer.
"""

from __future__ import annotations

import importlib
from typing import Any

LEGACY_PACKAGE = "training"
ADAPTER_PACKAGE = "pfdtrain.compat"


def resolve(dotted: str) -> Any:
    """Import the longest importable module prefix of ``dotted`` and walk the remaining attributes."""
    parts = dotted.split(".")
    if parts[0] == LEGACY_PACKAGE:
        if len(parts) < 3:
            raise ValueError(f"expected training.<module>.<name>, got {dotted!r}")
        module = importlib.import_module(f"{ADAPTER_PACKAGE}.{parts[1]}")
        rest = parts[2:]
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
    obj: Any = module
    for name in rest:
        obj = getattr(obj, name)
    return obj
