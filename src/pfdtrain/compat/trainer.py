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

from typing import Any

from torch import nn

from pfdtrain.compat import _bridge as B

__all__ = ["Trainer", "TrainingState"]


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

    def __init__(self, model: nn.Module, train_loader, val_loader=None, optimizer=None, criterion=None,
                 device="cuda", callbacks=None, gradient_accumulation_steps=1, max_grad_norm=1.0,
                 mixed_precision=False):
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
        self.scaler = B.new_grad_scaler() if mixed_precision else None
        self.state = TrainingState()

    # ---------------------------------------------------------------- legacy API

    def train_epoch(self) -> dict[str, float]:
        core = self._core()
        return self._train_metrics(core.run_training_epoch(self._train_source()))

    def validate_epoch(self) -> dict[str, float]:
        if self.val_loader is None:
            return {}
        core = self._core()
        metrics = core.evaluate(self.val_loader)
        self.model.eval()
        return self._val_metrics(metrics, validated=True)

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

    def _fit_epoch_start(self, core, epoch: int) -> None:
        self.state.epoch = epoch
        self._run_user_epoch(core)

    def _run_user_epoch(self, core) -> None:
        """Subclass overrides of the epoch methods run here, in legacy order (see ``_bridge.overridden``)."""
        self._user_metrics = None
        if getattr(self, "_user_epochs", False):
            self._user_metrics = (self.train_epoch(), self.validate_epoch())
            B.hand_epoch_to_user(core)

    def _fit_epoch_end(self, core, epoch: int, num_epochs: int, printer=None) -> None:
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
        return self._train_source(), self.val_loader

    def _train_transform(self):
        """Per-batch change of training inputs after the device move (SpectrogramTrainer: SpecAugment)."""
        return None

    def _autocast_enabled(self, training: bool) -> bool:
        return bool(self.mixed_precision)

    def _amp_in_step(self) -> bool:
        return bool(self.mixed_precision) and self.scaler is not None

    def _make_task(self) -> B.LegacyTask:
        return B.LegacyClassificationTask(self)

    def _core(self, max_epochs: int = 0, callbacks=()):
        plugins = B.legacy_step_plugins(self, lambda: self.model, self._amp_in_step())
        return B.build_core(self.model, self.optimizer, self._make_task(), plugins, callbacks,
                            max_epochs=max_epochs, device=self.device)
