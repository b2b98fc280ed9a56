"""Legacy ``training.pinn_trainer``: ``PINNTrainingState`` and ``PINNTrainer``.

``PINNTrainer`` subclasses the legacy :class:`~pfdtrain.compat.trainer.Trainer` and swaps its task
for one that reads ``(x, y)`` or ``(x, y, metadata)`` batches and calls the adapter's own
``compute_loss`` (so subclasses overriding it keep working). Physics values come from the
legacy-valued :mod:`pfdtrain.compat.physics_loss_functions`.

Kept legacy behaviour (``docs/compatibility.md``): ``train(num_epochs, start_epoch)`` takes the
END epoch; the physics weight follows the schedule from ``epoch / num_epochs`` at each epoch start
(``'exponential'`` makes it a ``numpy.float64``; an unknown name means constant) and only
``train`` updates it (inherited ``fit`` leaves it at its initial value); reported ``*_loss`` is the
cross-entropy part, ``*_total_loss`` adds ``lambda * physics``; the physics term has no gradient,
uses the first sample's rpm, fails with ``KeyError`` for predicted classes 8-10 and with
``AttributeError`` when ``lambda_freq=0``; a tensor as third batch item fails with
``AttributeError``; ``*_freq_loss`` history lists stay empty.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from pfdtrain.compat import _bridge as B
from pfdtrain.compat._legacy_names import (
    NUM_CLASSES,
    SIGNAL_LENGTH,
    Callable,
    Dict,
    List,
    Optional,
    Tuple,
    get_logger,
    tqdm,
)
from pfdtrain.compat.physics_loss_functions import (
    FrequencyConsistencyLoss,
    PhysicalConstraintLoss,
    SommerfeldConsistencyLoss,
    TemporalSmoothnessLoss,
)
from pfdtrain.compat.trainer import Trainer, TrainingState
from pfdtrain.tasks.base import StepOutput

__all__ = [
    # module-level names of the legacy module (served as training.pinn_trainer.<name>)
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "Callable",
    "DataLoader",
    "Dict",
    "FrequencyConsistencyLoss",
    "List",
    "Optional",
    "PINNTrainer",
    "PINNTrainingState",
    "Path",
    "PhysicalConstraintLoss",
    "SommerfeldConsistencyLoss",
    "TemporalSmoothnessLoss",
    "Trainer",
    "TrainingState",
    "Tuple",
    "logger",
    "nn",
    "np",
    "sys",
    "time",
    "torch",
    "tqdm",
]

logger = get_logger("training.pinn_trainer")


class PINNTrainingState(TrainingState):
    """``TrainingState`` with the physics history keys (``*_freq_loss`` are never filled)."""

    def __init__(self) -> None:
        super().__init__()
        for key in ("train_physics_loss", "val_physics_loss", "train_freq_loss", "val_freq_loss",
                    "train_total_loss", "val_total_loss"):
            self.history[key] = []


class _PinnTask(B.LegacyTask):
    """One PINN batch: metadata extraction, forward with metadata, ``owner.compute_loss``."""

    def step(self, model: nn.Module, batch: Any, trainer: Any, training: bool) -> StepOutput:
        owner = self.owner
        inputs, targets, metadata = owner._extract_metadata(batch)
        device = trainer.device
        inputs, targets = inputs.to(device), targets.to(device)
        if metadata is not None:
            metadata = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in metadata.items()}
        with B.legacy_autocast(training and owner._autocast_enabled(training)):
            outputs = model(inputs, metadata) if isinstance(metadata, dict) and metadata else model(inputs)
            total, parts = owner.compute_loss(outputs, targets, inputs, metadata)
        as_tensor = lambda v: torch.tensor(float(v), dtype=torch.float64)  # noqa: E731
        return StepOutput(loss=total, batch_size=targets.size(0), metrics={
            "loss": as_tensor(parts["ce_loss"]),
            "physics_loss": as_tensor(parts["physics_loss"]),
            "total_loss": as_tensor(parts["total_loss"]),
            "acc": B.percent_correct(outputs, targets),
        })


class PINNTrainer(Trainer):
    """Trainer with a frequency-consistency physics term weighted by a scheduled lambda."""

    def __init__(self, model: Any, train_loader: Any, val_loader: Any = None, optimizer: Any = None,
                 criterion: Any = None, device: Any = "cuda", callbacks: Any = None,
                 gradient_accumulation_steps: int = 1, max_grad_norm: float = 1.0, mixed_precision: bool = False,
                 lambda_physics: float = 0.5, lambda_freq: float = 1.0, lambda_sommerfeld: float = 0.0,
                 lambda_temporal: float = 0.0, adaptive_lambda: bool = True, lambda_schedule: str = "linear",
                 sample_rate: Any = 20480, metadata_keys: Any = None) -> None:
        super().__init__(model, train_loader, val_loader, optimizer, criterion, device, callbacks,
                         gradient_accumulation_steps, max_grad_norm, mixed_precision)
        self.lambda_physics = lambda_physics
        self.lambda_freq = lambda_freq
        self.lambda_sommerfeld = lambda_sommerfeld
        self.lambda_temporal = lambda_temporal
        self.adaptive_lambda = adaptive_lambda
        self.lambda_schedule = lambda_schedule
        self.sample_rate = sample_rate
        self.metadata_keys = metadata_keys or ["rpm", "load", "viscosity"]
        self.current_lambda_physics = 0.0 if adaptive_lambda else lambda_physics
        self.physics_loss_fn = PhysicalConstraintLoss(lambda_freq=lambda_freq, lambda_sommerfeld=lambda_sommerfeld,
                                                      lambda_temporal=lambda_temporal, sample_rate=sample_rate)
        self.state = PINNTrainingState()

    # ---------------------------------------------------------------- legacy API

    def _update_lambda_physics(self, epoch: int, max_epochs: int) -> None:
        if not self.adaptive_lambda:
            self.current_lambda_physics = self.lambda_physics
            return
        progress = epoch / max_epochs
        if self.lambda_schedule == "linear":
            self.current_lambda_physics = self.lambda_physics * progress
        elif self.lambda_schedule == "exponential":
            self.current_lambda_physics = self.lambda_physics * (1 - np.exp(-5 * progress))
        elif self.lambda_schedule == "step":
            if progress < 0.4:
                self.current_lambda_physics = 0.0
            elif progress < 0.7:
                self.current_lambda_physics = self.lambda_physics / 2
            else:
                self.current_lambda_physics = self.lambda_physics
        else:
            self.current_lambda_physics = self.lambda_physics

    def _extract_metadata(self, batch: Any) -> Any:
        if len(batch) == 2:
            inputs, targets = batch
            return inputs, targets, None
        if len(batch) == 3:
            inputs, targets, metadata = batch
            if isinstance(metadata, dict):
                metadata = {k: metadata[k] for k in self.metadata_keys
                            if k in metadata and metadata[k] is not None} or None
            return inputs, targets, metadata
        raise ValueError(f"Unexpected batch format with {len(batch)} elements")

    def compute_loss(self, outputs: Any, targets: torch.Tensor, signal: torch.Tensor, metadata: Any = None) -> Any:
        ce_loss = self.criterion(outputs, targets)
        if self.current_lambda_physics > 0:
            physics_loss, physics_dict = self.physics_loss_fn(signal, outputs, metadata)
            total_loss = ce_loss + self.current_lambda_physics * physics_loss
            return total_loss, {
                "ce_loss": ce_loss.item(),
                "physics_loss": physics_loss.item(),
                "freq_consistency": physics_dict.get("freq_consistency", 0.0),
                "total_physics": physics_dict["total_physics"],
                "total_loss": total_loss.item(),
            }
        return ce_loss, {"ce_loss": ce_loss.item(), "physics_loss": 0.0, "total_loss": ce_loss.item()}

    def train(self, num_epochs: int, start_epoch: int = 0) -> dict[str, list]:
        print(f"Starting PINN Training for {num_epochs} epochs")
        print(f"Lambda Physics: {self.lambda_physics} (adaptive: {self.adaptive_lambda})")
        print(f"Device: {self.device}")
        print("=" * 60)

        def start(core: Any, epoch: int) -> None:
            self.state.epoch = epoch
            self._update_lambda_physics(epoch, num_epochs)
            self._run_user_epoch(core)

        bridge = B.EpochBridge(start, lambda core, e: self._fit_epoch_end(core, e, num_epochs, self._print_train_epoch),
                               first_epoch=start_epoch, loaders=self._loaders)
        self._user_epochs = B.overridden(self, "train_epoch", "validate_epoch")
        epochs = len(range(start_epoch, num_epochs))
        self._core(max_epochs=epochs, callbacks=[bridge]).fit(*self._loaders())
        print("\n" + "=" * 60)
        print("Training Complete!")
        print("=" * 60)
        return self.state.history

    # ---------------------------------------------------------------- legacy shapes

    def _print_train_epoch(self, epoch: int, num_epochs: int, train: dict, val: dict) -> None:
        print(f"\nEpoch {epoch + 1}/{num_epochs}:")
        print(f"  Train - Loss: {train['train_loss']:.4f}, Phys: {train['train_physics_loss']:.4f}, "
              f"Acc: {train['train_acc']:.2f}%")
        if val:
            print(f"  Val   - Loss: {val['val_loss']:.4f}, Phys: {val['val_physics_loss']:.4f}, "
                  f"Acc: {val['val_acc']:.2f}%")

    def _metrics(self, core_metrics: dict, prefix: str) -> dict[str, float]:
        return {
            f"{prefix}_loss": B.require(core_metrics, f"{prefix}_loss"),
            f"{prefix}_physics_loss": B.require(core_metrics, f"{prefix}_physics_loss"),
            f"{prefix}_total_loss": B.require(core_metrics, f"{prefix}_total_loss"),
            f"{prefix}_acc": B.percent(core_metrics, f"{prefix}_acc"),
        }

    def _train_metrics(self, core_metrics: dict) -> dict[str, float]:
        return self._metrics(core_metrics, "train")

    def _val_metrics(self, core_metrics: dict, validated: bool) -> dict[str, float]:
        return self._metrics(core_metrics, "val") if validated else {}

    def _make_task(self) -> B.LegacyTask:
        return _PinnTask(self)

    def _bar(self, loader: Any, kind: str) -> B.ProgressLoader:
        def make(it: Any) -> Any:
            desc = f"Epoch {self.state.epoch + 1} [{kind}]"
            if kind == "Train":
                desc += f" λ={self.current_lambda_physics:.3f}"
            return tqdm(it, desc=desc, leave=False)

        return B.ProgressLoader(loader, make)


def _legacy_main() -> None:
    """``python -m training.pinn_trainer``: legacy's structure check of a PINNTrainer on random
    data (the legacy ``models.pinn.hybrid_pinn.HybridPINN`` when importable, else a small CNN)."""
    from torch.utils.data import TensorDataset

    from pfdtrain.compat._legacy_names import legacy_model, small_signal_cnn

    print("=" * 60)
    print("PINN Trainer - Validation")
    print("=" * 60)
    model = legacy_model("models.pinn.hybrid_pinn", "HybridPINN", small_signal_cnn, num_classes=NUM_CLASSES,
                         backbone="resnet18")
    signals = torch.randn(100, 1, SIGNAL_LENGTH)
    labels = torch.randint(0, 11, (100,))
    rpm = torch.tensor([3600.0] * 100)
    train_loader = DataLoader(TensorDataset(signals, labels, rpm), batch_size=4, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    trainer = PINNTrainer(model=model, train_loader=train_loader, val_loader=train_loader, optimizer=optimizer,
                          device="cpu", lambda_physics=0.5, adaptive_lambda=True)
    print("\nTrainer Configuration:")
    print(f"  Lambda physics: {trainer.lambda_physics}")
    print(f"  Adaptive: {trainer.adaptive_lambda}")
    print(f"  Current lambda: {trainer.current_lambda_physics}")
    print("\n" + "=" * 60)
    print("Validation Complete!")
    print("=" * 60)
