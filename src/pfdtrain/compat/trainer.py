"""Legacy ``training.trainer``: ``TrainingState`` and the generic ``Trainer`` with old-style callbacks.

A configuration of the core :class:`pfdtrain.Trainer` (see :mod:`pfdtrain.compat._bridge`).
Kept legacy behaviour (``docs/compatibility.md``): default ``device='cuda'``; callbacks are
called as ``callback(trainer, metrics)`` after the history update, so an ``EarlyStopping``
``StopIteration`` escapes ``fit`` (the closing text is not printed); ``on_train_begin`` and
friends are never called; accuracies are percentages; ``fit`` returns ``None``; gradients of a
short last accumulation window are neither applied nor cleared; ``TrainingState``'s best/patience
fields never change; the model is left in ``eval()`` mode after a validation pass.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from pfdtrain.compat import _bridge as B
from pfdtrain.compat._legacy_names import (
    NUM_CLASSES,
    SIGNAL_LENGTH,
    Callable,
    Dict,
    GradScaler,
    List,
    Optional,
    get_logger,
    tqdm,
)

__all__ = [
    # module-level names of the legacy module (served as training.trainer.<name>)
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "Callable",
    "DataLoader",
    "Dict",
    "List",
    "Optional",
    "Path",
    "Trainer",
    "TrainingState",
    "logger",
    "nn",
    "time",
    "torch",
    "tqdm",
]

logger = get_logger("training.trainer")


class TrainingState:
    """Epoch counter and a history of lists; ``best_*`` and ``patience_counter`` stay as created."""

    def __init__(self) -> None:
        self.epoch = 0
        self.best_metric = float("inf")
        self.best_epoch = 0
        self.patience_counter = 0
        self.history: dict[str, list] = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": []}

    def update(self, metrics: dict[str, Any]) -> None:
        for key, value in metrics.items():
            if key not in self.history:
                self.history[key] = []
            self.history[key].append(value)


class Trainer:
    """Legacy generic trainer: ``fit(num_epochs)`` prints a summary per epoch and returns ``None``."""

    _user_epochs = False  # set by fit/train: a subclass overrides the epoch methods
    _user_metrics: Any = None  # (train, val) from those overrides, for the epoch end

    def __init__(self, model: nn.Module, train_loader: Any, val_loader: Any = None, optimizer: Any = None,
                 criterion: Any = None, device: Any = "cuda", callbacks: Any = None,
                 gradient_accumulation_steps: int = 1, max_grad_norm: float = 1.0,
                 mixed_precision: bool = False) -> None:
        self.model = model.to(device)
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.optimizer = optimizer
        self.criterion = criterion or nn.CrossEntropyLoss()
        self.device = device
        self.callbacks = callbacks or []
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.max_grad_norm = max_grad_norm
        self.mixed_precision = mixed_precision
        self.state = TrainingState()
        self.scaler: Any = GradScaler() if mixed_precision else None

    # ---------------------------------------------------------------- legacy API

    def train_epoch(self) -> dict[str, float]:
        core = self._core()
        loader = self._bar(self._train_source(), "Train")
        out = self._train_metrics(core.run_training_epoch(loader))
        B.postfix(loader, {"loss": out["train_loss"], "acc": out["train_acc"]})
        return out

    def validate_epoch(self) -> dict[str, float]:
        if self.val_loader is None:
            return {}
        core = self._core()
        loader = self._bar(self.val_loader, "Val")
        metrics = core.evaluate(loader)
        self.model.eval()
        out = self._val_metrics(metrics, validated=True)
        B.postfix(loader, {"loss": out["val_loss"], "acc": out["val_acc"]})
        return out

    def fit(self, num_epochs: int) -> None:
        print(f"Starting training for {num_epochs} epochs...")
        bridge = B.EpochBridge(self._fit_epoch_start, lambda core, e: self._fit_epoch_end(core, e, num_epochs),
                               loaders=self._loaders)
        self._user_epochs = B.overridden(self, "train_epoch", "validate_epoch")
        self._core(max_epochs=num_epochs, callbacks=[bridge]).fit(*self._loaders())
        print("\nTraining complete!")

    def get_history(self) -> dict[str, list]:
        return self.state.history

    # ---------------------------------------------------------------- per-epoch work (inside core fit)

    def _fit_epoch_start(self, core: Any, epoch: int) -> None:
        self.state.epoch = epoch
        self._run_user_epoch(core)

    def _run_user_epoch(self, core: Any) -> None:
        """Subclass overrides of the epoch methods run here, in legacy order (see ``_bridge.overridden``)."""
        self._user_metrics = None
        if getattr(self, "_user_epochs", False):
            self._user_metrics = (self.train_epoch(), self.validate_epoch())
            B.hand_epoch_to_user(core)

    def _fit_epoch_end(self, core: Any, epoch: int, num_epochs: int, printer: Any = None) -> None:
        if getattr(self, "_user_metrics", None) is not None:
            train, val = self._user_metrics
            self._user_metrics = None
        else:
            row = B.last_row(core)
            train = self._train_metrics(row)
            val = self._val_metrics(row, validated=self.val_loader is not None)
            if val:
                self.model.eval()  # legacy validate_epoch left the model in eval mode
        metrics = {**train, **val}
        self.state.update(metrics)
        (printer or self._print_epoch)(epoch, num_epochs, train, val)
        for callback in self.callbacks:
            callback(self, metrics)

    def _print_epoch(self, epoch: int, num_epochs: int, train: dict, val: dict) -> None:
        print(f"\nEpoch {epoch + 1}/{num_epochs}")
        print(f"  Train Loss: {train['train_loss']:.4f}, Train Acc: {train['train_acc']:.2f}%")
        if val:
            print(f"  Val Loss: {val['val_loss']:.4f}, Val Acc: {val['val_acc']:.2f}%")

    # ---------------------------------------------------------------- core configuration

    def _train_metrics(self, core_metrics: dict) -> dict[str, float]:
        return {"train_loss": B.require(core_metrics, "train_loss"),
                "train_acc": B.percent(core_metrics, "train_acc")}

    def _val_metrics(self, core_metrics: dict, validated: bool) -> dict[str, float]:
        if not validated:
            return {}
        return {"val_loss": B.require(core_metrics, "val_loss"),
                "val_acc": B.percent(core_metrics, "val_acc")}

    def _train_source(self) -> Any:
        """What one training epoch iterates (MultiTFRTrainer: all its loaders in turn)."""
        return self.train_loader

    def _loaders(self) -> tuple[Any, Any]:
        val = self._bar(self.val_loader, "Val") if self.val_loader is not None else None
        return self._bar(self._train_source(), "Train"), val

    def _bar(self, loader: Any, kind: str) -> B.ProgressLoader:
        """Legacy's per-epoch ``tqdm(loader, desc=..., leave=False)`` (this module's global)."""
        return B.ProgressLoader(loader, lambda it: tqdm(it, desc=f"Epoch {self.state.epoch + 1} [{kind}]", leave=False))

    def _train_transform(self) -> Any:
        """Per-batch change of training inputs after the device move (SpectrogramTrainer: SpecAugment)."""
        return None

    def _autocast_enabled(self, training: bool) -> bool:
        return bool(self.mixed_precision)

    def _autocast(self) -> Any:
        return B.legacy_autocast(True)

    def _amp_in_step(self) -> bool:
        return bool(self.mixed_precision) and self.scaler is not None

    def _make_task(self) -> B.LegacyTask:
        return B.LegacyClassificationTask(self)

    def _core(self, max_epochs: int = 0, callbacks: Any = ()) -> Any:
        plugins = B.legacy_step_plugins(self, lambda: self.model, self._amp_in_step())
        return B.build_core(self.model, self.optimizer, self._make_task(), plugins, callbacks,
                            max_epochs=max_epochs, device=self.device)
