"""Legacy ``training.callbacks`` (the OLD callback API) and :func:`adapt_callback`.

Old-API callbacks are called by the legacy trainers as ``callback(trainer, metrics)`` once per
epoch; ``Callback.__call__`` forwards to ``on_epoch_end(trainer, trainer.state.epoch, metrics)``.
Kept legacy behaviour (``docs/compatibility.md``): ``EarlyStopping`` stops by raising
``StopIteration('Early stopping')``; a monitored key that is missing is ignored silently; a
``mode`` other than ``'min'`` means ``'max'``; ``ModelCheckpoint`` overwrites one path;
``LearningRateScheduler`` steps a ``ReduceLROnPlateau`` with ``metrics.get('val_loss', 0)``;
the TensorBoard/MLflow loggers print an install hint when their package is missing.

:func:`adapt_callback` turns an old-API callback (or a new-API ``training.cnn_callbacks`` one)
into a core :class:`pfdtrain.Callback`; the core Trainer calls it for such objects itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pfdtrain.callbacks.base import Callback as CoreCallback
from pfdtrain.compat._legacy_names import Callable, Dict, Optional, get_logger

__all__ = [
    # module-level names of the legacy module (served as training.callbacks.<name>)
    "Callable",
    "Callback",
    "Dict",
    "EarlyStopping",
    "LearningRateScheduler",
    "MLflowLogger",
    "ModelCheckpoint",
    "Optional",
    "Path",
    "ProgressPrinter",
    "TensorBoardLogger",
    "adapt_callback",
    "is_legacy_callback",
    "logger",
    "nn",
    "np",
    "torch",
]

#: Legacy training.callbacks printed and had no logger; clients use one under this module's name.
logger = get_logger("training.callbacks")


class Callback:
    """Old-API base class: ``on_*`` hooks receive the trainer first; callable once per epoch."""

    def on_train_begin(self, trainer: Any) -> None:
        pass

    def on_train_end(self, trainer: Any) -> None:
        pass

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        pass

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: Any) -> None:
        pass

    def __call__(self, trainer: Any, metrics: Any) -> None:
        self.on_epoch_end(trainer, trainer.state.epoch, metrics)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs
    (by raising ``StopIteration('Early stopping')``, as legacy did)."""

    def __init__(self, monitor: str = "val_loss", patience: int = 10, mode: str = "min", min_delta: float = 0.0,
                 verbose: bool = True) -> None:
        self.monitor = monitor
        self.patience = patience
        self.mode = mode
        self.min_delta = min_delta
        self.verbose = verbose
        self.best_value = float("inf") if mode == "min" else float("-inf")
        self.counter = 0
        self.stopped_epoch = 0

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: Any) -> None:
        if self.monitor not in metrics:
            return
        current = metrics[self.monitor]
        if self.mode == "min":
            improved = current < self.best_value - self.min_delta
        else:
            improved = current > self.best_value + self.min_delta
        if improved:
            self.best_value = current
            self.counter = 0
            if self.verbose:
                print(f"EarlyStopping: {self.monitor} improved to {current:.4f}")
            return
        self.counter += 1
        if self.verbose:
            print(f"EarlyStopping: {self.monitor} did not improve ({self.counter}/{self.patience})")
        if self.counter >= self.patience:
            self.stopped_epoch = epoch
            if self.verbose:
                print(f"Early stopping triggered at epoch {epoch + 1}")
            raise StopIteration("Early stopping")


class ModelCheckpoint(Callback):
    """Save ``epoch, model_state_dict, optimizer_state_dict, metrics, best_value`` to ``filepath``
    (overwritten) on a strict improvement of ``monitor``, or every epoch with ``save_best_only=False``."""

    def __init__(self, filepath: Any, monitor: str = "val_loss", mode: str = "min", save_best_only: bool = True,
                 verbose: bool = True) -> None:
        self.filepath = Path(filepath)
        self.monitor = monitor
        self.mode = mode
        self.save_best_only = save_best_only
        self.verbose = verbose
        self.best_value = float("inf") if mode == "min" else float("-inf")

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: Any) -> None:
        current = metrics.get(self.monitor)
        if current is None:
            return
        improved = current < self.best_value if self.mode == "min" else current > self.best_value
        if improved:
            self.best_value = current
        if improved or not self.save_best_only:
            self.filepath.parent.mkdir(parents=True, exist_ok=True)
            torch.save({
                "epoch": epoch,
                "model_state_dict": trainer.model.state_dict(),
                "optimizer_state_dict": trainer.optimizer.state_dict(),
                "metrics": metrics,
                "best_value": self.best_value,
            }, self.filepath)
            if self.verbose:
                print(f"Checkpoint saved to {self.filepath}")


class LearningRateScheduler(Callback):
    """Step ``scheduler`` once per epoch (a plateau scheduler with ``val_loss``, 0 if absent)."""

    def __init__(self, scheduler: Any, verbose: bool = True) -> None:
        self.scheduler = scheduler
        self.verbose = verbose

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: Any) -> None:
        optimizer = self.scheduler.optimizer
        old_lr = optimizer.param_groups[0]["lr"]
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(metrics.get("val_loss", 0))
        else:
            self.scheduler.step()
        new_lr = optimizer.param_groups[0]["lr"]
        if self.verbose and new_lr != old_lr:
            print(f"Learning rate changed: {old_lr:.6f} -> {new_lr:.6f}")


class TensorBoardLogger(Callback):
    """Scalars per epoch to TensorBoard once ``on_train_begin`` created the writer."""

    def __init__(self, log_dir: Any = "runs") -> None:
        self.log_dir = Path(log_dir)
        self.writer: Any = None

    def on_train_begin(self, trainer: Any) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            print("TensorBoard not available. Install with: pip install tensorboard")
            return
        self.writer = SummaryWriter(self.log_dir)

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: Any) -> None:
        if self.writer is None:
            return
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, epoch)
        self.writer.add_scalar("learning_rate", trainer.optimizer.param_groups[0]["lr"], epoch)

    def on_train_end(self, trainer: Any) -> None:
        if self.writer is not None:
            self.writer.close()


class MLflowLogger(Callback):
    """Metrics per epoch to MLflow once ``on_train_begin`` started a run."""

    def __init__(self, experiment_name: str = "bearing_fault_diagnosis", run_name: Any = None) -> None:
        self.experiment_name = experiment_name
        self.run_name = run_name
        self.mlflow: Any = None  # the mlflow module once a run started (optional extra)
        self.run: Any = None

    def on_train_begin(self, trainer: Any) -> None:
        try:
            import mlflow
        except ImportError:
            print("MLflow not available. Install with: pip install mlflow")
            return
        self.mlflow = mlflow
        mlflow.set_experiment(self.experiment_name)
        self.run = mlflow.start_run(run_name=self.run_name)
        get_config = getattr(trainer.model, "get_config", None)
        if callable(get_config):
            mlflow.log_params(get_config())

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: Any) -> None:
        if self.mlflow is not None:
            self.mlflow.log_metrics(metrics, step=epoch)

    def on_train_end(self, trainer: Any) -> None:
        if self.mlflow is not None:
            self.mlflow.end_run()


class ProgressPrinter(Callback):
    """``Epoch {n}: key: value | ...`` with every value formatted ``:.4f``."""

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: Any) -> None:
        print(f"Epoch {epoch + 1}: " + " | ".join(f"{k}: {v:.4f}" for k, v in metrics.items()))


# ------------------------------------------------------------------------------------ adapters


def is_legacy_callback(obj: Any) -> bool:
    """True for an object of either legacy callback API: an old-API ``Callback`` or any callable
    ``f(trainer, metrics)``, an object with ``on_epoch_end``, or a new-API ``cnn_callbacks`` one."""
    if isinstance(obj, (CoreCallback, type)):
        return False
    if isinstance(obj, Callback) or callable(obj):
        return True
    return callable(getattr(obj, "on_epoch_end", None))


def adapt_callback(callback: Any) -> CoreCallback:
    """Wrap a legacy callback (old or new API) into a core :class:`pfdtrain.Callback`.

    * old API (``training.callbacks``): ``on_train_begin(trainer)`` at fit start,
      ``on_epoch_begin(trainer, epoch)``, ``callback(trainer, metrics)`` at each epoch end (after
      validation), ``on_train_end(trainer)`` at fit end. ``trainer`` is a view of the core Trainer
      with the legacy ``state`` (``state.epoch``, ``state.history``); ``metrics`` uses the legacy
      names ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc`` (accuracies in percent). A
      ``StopIteration`` (old ``EarlyStopping``) stops the run cleanly: ``trainer.should_stop``.
    * new API (``training.cnn_callbacks``): ``on_train_begin(None)``, ``on_epoch_begin(epoch,
      None)``, ``on_batch_begin(batch_idx, None)``, ``on_batch_end(batch_idx, {'loss': ...})``
      (read lazily), ``on_epoch_end(epoch, logs)`` with the legacy metric names plus ``lr``,
      ``on_train_end(None)``; ``should_stop = True`` stops the run. ``GradientMonitor`` gets its
      ``on_batch_end`` before each optimizer step, while gradients exist.

    A core Callback is returned unchanged; anything else is a ``TypeError``.
    """
    if isinstance(callback, CoreCallback):
        return callback
    from pfdtrain.compat import _callback_adapters as A

    if A.is_new_api(callback):
        return A.NewApiCallback(callback)
    if is_legacy_callback(callback):
        return A.OldApiCallback(callback)
    raise TypeError(
        f"adapt_callback() expects a legacy callback (training.callbacks / training.cnn_callbacks, or a "
        f"callable f(trainer, metrics)); received {type(callback).__name__}."
    )


def _positional_count(fn: Any) -> int | None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _legacy_metrics(values: Mapping[str, Any]) -> dict[str, Any]:
    """Core epoch values -> legacy names: ``train_*``/``val_*`` only, ``*_acc`` in percent."""
    out = {}
    for key, value in values.items():
        if key in ("train_acc", "val_acc") and value is not None:
            value = 100.0 * value
        out[key] = value
    return out
