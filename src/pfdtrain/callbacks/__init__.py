"""Callbacks: observe and control the loop (early stopping, checkpoints, loggers, progress).

The built-in callbacks load on first use (``from pfdtrain.callbacks import EarlyStopping``), so
that importing the protocol (done by the Trainer and the legacy shims) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pfdtrain._lazy import lazy_exports
from pfdtrain.callbacks.base import HOOKS, Callback, CallbackList

if TYPE_CHECKING:  # pragma: no cover
    # `import X as X`: re-exported for type checkers and IDEs; at run time __getattr__ loads them.
    from pfdtrain.callbacks.csv_logger import CSVLogger as CSVLogger
    from pfdtrain.callbacks.early_stopping import EarlyStopping as EarlyStopping
    from pfdtrain.callbacks.json_logger import JSONLogger as JSONLogger
    from pfdtrain.callbacks.lr_monitor import LearningRateMonitor as LearningRateMonitor
    from pfdtrain.callbacks.mlflow_logger import MLflowLogger as MLflowLogger
    from pfdtrain.callbacks.model_checkpoint import ModelCheckpoint as ModelCheckpoint
    from pfdtrain.callbacks.progress import ProgressBar as ProgressBar
    from pfdtrain.callbacks.progressive_resizing import ProgressiveResizing as ProgressiveResizing
    from pfdtrain.callbacks.tensorboard import TensorBoardLogger as TensorBoardLogger
    from pfdtrain.callbacks.time_limit import TimeLimit as TimeLimit

_LAZY = {
    "CSVLogger": "pfdtrain.callbacks.csv_logger",
    "EarlyStopping": "pfdtrain.callbacks.early_stopping",
    "JSONLogger": "pfdtrain.callbacks.json_logger",
    "LearningRateMonitor": "pfdtrain.callbacks.lr_monitor",
    "MLflowLogger": "pfdtrain.callbacks.mlflow_logger",
    "ModelCheckpoint": "pfdtrain.callbacks.model_checkpoint",
    "ProgressBar": "pfdtrain.callbacks.progress",
    "ProgressiveResizing": "pfdtrain.callbacks.progressive_resizing",
    "TensorBoardLogger": "pfdtrain.callbacks.tensorboard",
    "TimeLimit": "pfdtrain.callbacks.time_limit",
}

__all__ = ["HOOKS", "Callback", "CallbackList", *sorted(_LAZY)]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY, __all__)
