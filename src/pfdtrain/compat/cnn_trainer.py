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

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from pfdtrain.compat import _bridge as B
from pfdtrain.compat._legacy_names import Dict, GradScaler, List, Optional, Tuple, autocast, get_logger, tqdm
from pfdtrain.compat.cnn_losses import create_criterion

__all__ = [
    "CNNTrainer",
    # module-level names of the legacy module (served as training.cnn_trainer.<name>)
    "DataLoader",
    "Dict",
    "GradScaler",
    "List",
    "Optional",
    "Path",
    "Tuple",
    "autocast",
    "create_criterion",
    "get_logger",
    "logger",
    "nn",
    "np",
    "test_cnn_trainer",
    "time",
    "torch",
    "tqdm",
]

logger = get_logger("training.cnn_trainer")

#: Legacy evaluated the default device once, at import.
_DEFAULT_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


class CNNTrainer:
    """Legacy CNN trainer: ``fit`` returns the live ``history`` dict; accuracies in percent."""

    def __init__(self, model: nn.Module, train_loader: Any, val_loader: Any = None, optimizer: Any = None,
                 criterion: Any = None, device: Any = _DEFAULT_DEVICE, lr_scheduler: Any = None,
                 max_grad_norm: float = 1.0, gradient_accumulation_steps: int = 1, mixed_precision: bool = True,
                 checkpoint_dir: Any = None) -> None:
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
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.scaler: Any = GradScaler() if mixed_precision else None
        self.current_epoch = 0
        self.best_val_loss = float("inf")
        self.best_val_acc = 0.0
        self.history: dict[str, list[Any]] = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": [],
                                              "lr": []}
        logger.info(f"CNNTrainer initialized on {device}, mixed_precision={mixed_precision}")

    # ---------------------------------------------------------------- legacy API

    def train_epoch(self) -> dict[str, float]:
        loader = self._bar(self.train_loader, "Train")
        metrics = self._core().run_training_epoch(loader)
        out = {"loss": B.require(metrics, "train_loss"), "accuracy": B.percent(metrics, "train_acc")}
        loader.postfix({"loss": f"{out['loss']:.4f}", "acc": f"{out['accuracy']:.2f}%"})
        return out

    def validate_epoch(self) -> dict[str, float]:
        if self.val_loader is None:
            return {}
        loader = self._bar(self.val_loader, "Val")
        metrics = self._core().evaluate(loader)
        self.model.eval()
        out = {"loss": B.require(metrics, "val_loss"), "accuracy": B.percent(metrics, "val_acc")}
        loader.postfix({"loss": f"{out['loss']:.4f}", "acc": f"{out['accuracy']:.2f}%"})
        return out

    def _bar(self, loader: Any, kind: Any) -> Any:
        """Legacy's per-epoch ``tqdm`` bar (this module's global, read when the epoch starts)."""
        return B.ProgressLoader(loader, lambda it: tqdm(it, desc=f"Epoch {self.current_epoch + 1} [{kind}]"))

    def fit(self, num_epochs: int, save_best: bool = True, verbose: bool = True) -> dict[str, list]:
        logger.info(f"Starting training for {num_epochs} epochs")
        timer: dict = {}
        user_epochs = B.overridden(self, "train_epoch", "validate_epoch")

        def start(core: Any, epoch: int) -> None:
            self.current_epoch = epoch
            timer["t"] = time.time()
            if user_epochs:  # a subclass's epoch methods, called as legacy fit did
                timer["metrics"] = (self.train_epoch(), self.validate_epoch())
                B.hand_epoch_to_user(core)

        def end(core: Any, epoch: int) -> None:
            self._fit_epoch_end(core, epoch, num_epochs, save_best, verbose, timer["t"], timer.pop("metrics", None))

        def loaders() -> Any:
            val = self._bar(self.val_loader, "Val") if self.val_loader is not None else None
            return self._bar(self.train_loader, "Train"), val

        bridge = B.EpochBridge(start, end, loaders=loaders)
        self._core(max_epochs=num_epochs, callbacks=[bridge]).fit(self.train_loader, self.val_loader)
        logger.info("Training complete!")
        if self.best_val_acc > 0:
            logger.info(f"Best validation accuracy: {self.best_val_acc:.2f}%")
        return self.history

    def save_checkpoint(self, filename: Any) -> None:
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

    def load_checkpoint(self, filepath: Any) -> None:
        from pfdtrain.checkpoint.format import is_v2
        from pfdtrain.migration.upgraders import downgrade

        checkpoint = torch.load(filepath, map_location=self.device)
        if is_v2(checkpoint):  # migrated, or written by the core Trainer: read as this writer saved it
            checkpoint = downgrade(checkpoint, "cnn_trainer")
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

    def _fit_epoch_end(self, core: Any, epoch: int, num_epochs: int, save_best: bool, verbose: bool,
                       started: float, user_metrics: Any = None) -> None:
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

    def _train_transform(self) -> Any:
        return None

    def _make_task(self) -> B.LegacyTask:
        return B.LegacyClassificationTask(self)

    def _autocast_enabled(self, training: bool) -> bool:
        return bool(self.mixed_precision)

    def _autocast(self) -> Any:
        return autocast()  # this module's global (legacy: torch.cuda.amp.autocast)

    def _amp_in_step(self) -> bool:
        return bool(self.mixed_precision) and self.scaler is not None

    def _core(self, max_epochs: int = 0, callbacks: Any = ()) -> Any:
        plugins = B.legacy_step_plugins(self, lambda: self.model, self._amp_in_step())
        return B.build_core(self.model, self.optimizer, self._make_task(), plugins, callbacks,
                            max_epochs=max_epochs, device=self.device)


def _self_test_loaders(signals: np.ndarray, labels: np.ndarray) -> Any:
    """Train/val loaders (batch 8) the way legacy's self-test built them: the legacy repository's
    ``data.cnn_dataset`` / ``data.cnn_dataloader`` helpers when importable, else a seeded 70/15/15
    split (seed 42, as those helpers used) of plain tensors."""
    try:
        from data.cnn_dataloader import create_cnn_dataloaders  # type: ignore[import-not-found]  # legacy repo
        from data.cnn_dataset import create_cnn_datasets_from_arrays  # type: ignore[import-not-found]  # legacy repo
    except ImportError:
        from torch.utils.data import TensorDataset

        order = np.random.RandomState(42).permutation(len(signals))
        n_train, n_val = int(0.7 * len(signals)), int(0.15 * len(signals))
        x, y = torch.from_numpy(signals).unsqueeze(1), torch.from_numpy(labels).long()
        train, val = order[:n_train], order[n_train:n_train + n_val]
        return {"train": DataLoader(TensorDataset(x[train], y[train]), batch_size=8, shuffle=True),
                "val": DataLoader(TensorDataset(x[val], y[val]), batch_size=8)}
    train_ds, val_ds, _ = create_cnn_datasets_from_arrays(signals, labels)
    return create_cnn_dataloaders(train_dataset=train_ds, val_dataset=val_ds, batch_size=8, num_workers=0)


def test_cnn_trainer() -> None:
    """Legacy self-test: 2 epochs on 100 random signals with checkpointing to ``./test_checkpoints``
    (deleted at the end), then a reload. Uses the legacy repository's ``CNN1D`` and data helpers
    when importable, else pfdtrain stand-ins; legacy's printed lines and log messages."""
    import shutil

    from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, legacy_model, small_signal_cnn
    from pfdtrain.compat.cnn_losses import LabelSmoothingCrossEntropy
    from pfdtrain.compat.cnn_optimizer import create_adamw_optimizer

    print("=" * 60)
    print("Testing CNN Trainer")
    print("=" * 60)
    signals = np.random.randn(100, SIGNAL_LENGTH).astype(np.float32)
    labels = np.random.randint(0, 11, 100)
    loaders = _self_test_loaders(signals, labels)

    def new_model() -> Any:
        return legacy_model("models.cnn.cnn_1d", "CNN1D", small_signal_cnn, num_classes=NUM_CLASSES)

    model = new_model()
    optimizer = create_adamw_optimizer(model.parameters(), lr=1e-3)
    criterion = LabelSmoothingCrossEntropy(smoothing=0.1)

    print("\n1. Creating CNN trainer...")
    trainer = CNNTrainer(model=model, train_loader=loaders["train"], val_loader=loaders["val"], optimizer=optimizer,
                         criterion=criterion, mixed_precision=False, checkpoint_dir=Path("./test_checkpoints"))
    print(f"   Trainer created on device: {trainer.device}")

    print("\n2. Training for 2 epochs...")
    history = trainer.fit(num_epochs=2, save_best=True, verbose=True)

    print("\n3. Training history:")
    print(f"   Train loss: {history['train_loss']}")
    print(f"   Train acc: {history['train_acc']}")
    print(f"   Val loss: {history['val_loss']}")
    print(f"   Val acc: {history['val_acc']}")

    print("\n4. Testing checkpoint save/load...")
    checkpoint_path = Path("./test_checkpoints/best_model.pth")
    if checkpoint_path.exists():
        print(f"   Checkpoint saved at: {checkpoint_path}")
        reloaded = new_model()
        new_trainer = CNNTrainer(model=reloaded, train_loader=loaders["train"],
                                 optimizer=create_adamw_optimizer(reloaded.parameters(), lr=1e-3),
                                 criterion=criterion, checkpoint_dir=Path("./test_checkpoints"))
        new_trainer.load_checkpoint(checkpoint_path)
        print("   Checkpoint loaded successfully")
    if Path("./test_checkpoints").exists():
        shutil.rmtree("./test_checkpoints")
        print("   Test checkpoints cleaned up")

    print("\n" + "=" * 60)
    print("✅ All CNN trainer tests passed!")
    print("=" * 60)


def _legacy_main() -> None:
    """``python -m training.cnn_trainer``."""
    test_cnn_trainer()
