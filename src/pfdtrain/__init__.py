"""pfdtrain: one training loop for the LSTM-PFD bearing-fault code, with drop-in legacy imports,
safe checkpoint migration and codemods.

New code: ``from pfdtrain import Trainer``. Submodules load on first use so that importing
pfdtrain (done by the legacy import shims too) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pfdtrain._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.callbacks.base import Callback
    from pfdtrain.errors import LegacyImportError, LegacyImportWarning
    from pfdtrain.history import History
    from pfdtrain.seed import seed_everything
    from pfdtrain.tasks.classification import ClassificationTask
    from pfdtrain.trainer.trainer import Trainer

_LAZY = {
    "Trainer": "pfdtrain.trainer.trainer",
    "History": "pfdtrain.history",
    "Callback": "pfdtrain.callbacks.base",
    "ClassificationTask": "pfdtrain.tasks.classification",
    "seed_everything": "pfdtrain.seed",
    "LegacyImportWarning": "pfdtrain.errors",
    "LegacyImportError": "pfdtrain.errors",
}

__all__ = [
    "Callback", "ClassificationTask", "History", "LegacyImportError", "LegacyImportWarning", "Trainer", "__version__",
    "seed_everything",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pfdtrain' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
