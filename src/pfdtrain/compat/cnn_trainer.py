"""Legacy ``training.cnn_trainer``: ``CNNTrainer`` (and the ``test_cnn_trainer`` self-test).

A configuration of the core :class:`pfdtrain.Trainer` (see :mod:`pfdtrain.compat._bridge`);
messages go to the logger ``training.cnn_trainer``. Scripts drive it by hand: they set
``current_epoch``, call ``train_epoch()``/``validate_epoch()``, step ``lr_scheduler`` and append
to ``history`` themselves, so the epoch methods touch none of that state and every call reads
the trainer's current attributes.

Kept legacy behaviour (``docs/compatibility.md``): no ``callbacks`` argument; ``mixed_precision``
defaults to True and, without CUDA, is switched off with a WARNING and the device forced to
``'cpu'``; ``fit`` steps the scheduler once per epoch *without a metric* (a ``ReduceLROnPlateau``
raises ``TypeError``) and records the lr after that step; the best model is judged by strictly
greater validation accuracy starting from 0.0 and "saved" (a WARNING, nothing written) without
``checkpoint_dir``; ``load_checkpoint`` does not resume (``fit`` restarts at epoch 0 and appends
to the loaded history); leftover accumulated gradients are neither applied nor cleared.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from torch import nn

from pfdtrain.compat import _bridge as B

__all__ = ["CNNTrainer", "test_cnn_trainer"]

logger = logging.getLogger("training.cnn_trainer")

#: Legacy evaluated the default device once, at import.
_DEFAULT_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


class CNNTrainer:
    """Legacy CNN trainer: ``fit`` returns the live ``history`` dict; accuracies in percent."""

    def __init__(self, model: nn.Module, train_loader, val_loader=None, optimizer=None, criterion=None,
                 device=_DEFAULT_DEVICE, lr_scheduler=None, max_grad_norm=1.0, gradient_accumulation_steps=1,
                 mixed_precision=True, checkpoint_dir=None):
        if mixed_precision and not torch.cuda.is_available():
            logger.warning("Mixed precision requested but CUDA not available. Disabling.")
            mixed_precision = False
            device = "cpu"
        self.model = model.to(device)
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.optimizer = optimizer
        self.criterion = criterion or nn.CrossEntropyLoss()
        self.device = device
        self.lr_scheduler = lr_scheduler
        self.max_grad_norm = max_grad_norm
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.mixed_precision = mixed_precision
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.scaler = B.new_grad_scaler() if mixed_precision else None
        self.current_epoch = 0
        self.best_val_loss = float("inf")
        self.best_val_acc = 0.0
        self.history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": [], "lr": []}
        logger.info(f"CNNTrainer initialized on {device}, mixed_precision={mixed_precision}")

    # ---------------------------------------------------------------- legacy API

    def train_epoch(self) -> dict[str, float]:
        metrics = self._core().run_training_epoch(self.train_loader)
        return {"loss": B.require(metrics, "train_loss"), "accuracy": B.percent(metrics, "train_acc")}

    def validate_epoch(self) -> dict[str, float]:
        if self.val_loader is None:
            return {}
        metrics = self._core().evaluate(self.val_loader)
        self.model.eval()
        return {"loss": B.require(metrics, "val_loss"), "accuracy": B.percent(metrics, "val_acc")}

    def fit(self, num_epochs: int, save_best: bool = True, verbose: bool = True) -> dict[str, list]:
        logger.info(f"Starting training for {num_epochs} epochs")
        timer: dict = {}
        user_epochs = B.overridden(self, "train_epoch", "validate_epoch")

        def start(core, epoch):
            self.current_epoch = epoch
            timer["t"] = time.time()
            if user_epochs:  # a subclass's epoch methods, called as legacy fit did
                timer["metrics"] = (self.train_epoch(), self.validate_epoch())
                B.hand_epoch_to_user(core)

        def end(core, epoch):
            self._fit_epoch_end(core, epoch, num_epochs, save_best, verbose, timer["t"], timer.pop("metrics", None))

        bridge = B.EpochBridge(start, end, loaders=lambda: (self.train_loader, self.val_loader))
        self._core(max_epochs=num_epochs, callbacks=[bridge]).fit(self.train_loader, self.val_loader)
        logger.info("Training complete!")
        if self.best_val_acc > 0:
            logger.info(f"Best validation accuracy: {self.best_val_acc:.2f}%")
        return self.history

    def save_checkpoint(self, filename) -> None:
        if self.checkpoint_dir is None:
            logger.warning("No checkpoint_dir specified, skipping save")
            return
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        path = self.checkpoint_dir / filename
        checkpoint = {
            "epoch": self.current_epoch,
            "model_state_dict": self.model.state_dict(),
            "optimizer_state_dict": self.optimizer.state_dict(),
            "best_val_acc": self.best_val_acc,
            "best_val_loss": self.best_val_loss,
            "history": self.history,
        }
        if self.lr_scheduler is not None:
            checkpoint["scheduler_state_dict"] = self.lr_scheduler.state_dict()
        torch.save(checkpoint, path)
        logger.info(f"Checkpoint saved to {path}")

    def load_checkpoint(self, filepath) -> None:
        checkpoint = torch.load(filepath, map_location=self.device)
        self.model.load_state_dict(checkpoint["model_state_dict"])
        self.optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        self.current_epoch = checkpoint["epoch"]
        self.best_val_acc = checkpoint["best_val_acc"]
        self.best_val_loss = checkpoint["best_val_loss"]
        self.history = checkpoint["history"]
        if self.lr_scheduler is not None and "scheduler_state_dict" in checkpoint:
            self.lr_scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
        logger.info(f"Checkpoint loaded from {filepath}")

    def get_current_lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    # ---------------------------------------------------------------- per-epoch work (inside core fit)

    def _fit_epoch_end(self, core, epoch: int, num_epochs: int, save_best: bool, verbose: bool,
                       started: float, user_metrics=None) -> None:
        if user_metrics is not None:
            (train, val) = user_metrics
            train_loss, train_acc = train["loss"], train["accuracy"]
            validated = bool(val)
            if validated:
                val_loss, val_acc = val["loss"], val["accuracy"]
        else:
            row = B.last_row(core)
            train_loss, train_acc = B.require(row, "train_loss"), B.percent(row, "train_acc")
            validated = self.val_loader is not None
            if validated:
                val_loss, val_acc = B.require(row, "val_loss"), B.percent(row, "val_acc")
                self.model.eval()  # legacy validate_epoch left the model in eval mode
        if self.lr_scheduler is not None:
            self.lr_scheduler.step()
        lr = self.optimizer.param_groups[0]["lr"]
        history = self.history
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["lr"].append(lr)
        if validated:
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        if verbose:
            message = (f"Epoch {epoch + 1}/{num_epochs} ({time.time() - started:.1f}s) - "
                       f"Train Loss: {train_loss:.4f}, Train Acc: {train_acc:.2f}%")
            if validated:
                message += f", Val Loss: {val_loss:.4f}, Val Acc: {val_acc:.2f}%"
            logger.info(message + f", LR: {lr:.6f}")
        if save_best and validated and val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_val_loss = val_loss
            self.save_checkpoint("best_model.pth")
            logger.info(f"✓ New best model saved (Val Acc: {val_acc:.2f}%)")

    # ---------------------------------------------------------------- core configuration

    def _train_transform(self):
        return None

    def _make_task(self) -> B.LegacyTask:
        return B.LegacyClassificationTask(self)

    def _autocast_enabled(self, training: bool) -> bool:
        return bool(self.mixed_precision)

    def _amp_in_step(self) -> bool:
        return bool(self.mixed_precision) and self.scaler is not None

    def _core(self, max_epochs: int = 0, callbacks=()):
        plugins = B.legacy_step_plugins(self, lambda: self.model, self._amp_in_step())
        return B.build_core(self.model, self.optimizer, self._make_task(), plugins, callbacks,
                            max_epochs=max_epochs, device=self.device)


def test_cnn_trainer():
    """Legacy self-test; it needed ``data.*`` and ``models.cnn.cnn_1d`` from the legacy repository."""
    raise ImportError(
        "test_cnn_trainer() needs the legacy repository's data.* and models.cnn.cnn_1d modules, which "
        "pfdtrain does not ship. To check a CNNTrainer setup, train one epoch on your own model: "
        "CNNTrainer(model, loader, optimizer=..., device='cpu', mixed_precision=False).fit(1)."
    )
