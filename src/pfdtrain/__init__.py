"""pfdtrain: one training loop for the LSTM-PFD bearing-fault code, with drop-in legacy imports,
safe checkpoint migration and codemods.

New code: ``from pfdtrain import Trainer``. Submodules load on first use so that importing
pfdtrain (done by the legacy import shims too) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pfdtrain._lazy import lazy_exports
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


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY, __all__)
