"""Legacy ``training.spectrogram_trainer``: ``SpectrogramTrainer`` and ``MultiTFRTrainer``.

Both are the legacy :class:`~pfdtrain.compat.trainer.Trainer` with SpecAugment applied to training
inputs after the device move (per sample: frequency masks, then time masks, each width and start
a separate global ``torch.randint(..., (1,))`` draw, in legacy order, so seeded runs reproduce).
Unlike legacy, importing this module does not put ``packages/core/training`` on ``sys.path`` and
``SpectrogramTrainer`` subclasses the one compat ``Trainer`` (``docs/compatibility.md``, defect 25).

Kept legacy behaviour: ``SpectrogramTrainer`` has no ``train()`` method; ``save_checkpoint`` does
not create parent directories, stores ``best_metric=inf`` and, with ``is_best``, writes the same
dict to ``best_model.pth`` next to ``filepath`` (a ``str`` path fails after the first file);
``MultiTFRTrainer`` applies each TFR weight to its loss and again in ``train_loss``, never uses
AMP, steps by a batch index that restarts per loader (leftover gradients carry across loaders)
and validates on the first validation loader only.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
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
    get_logger,
    tqdm,
)
from pfdtrain.compat.trainer import Trainer, TrainingState
from pfdtrain.plugins.base import Plugin, PrecisionPlugin
from pfdtrain.tasks.base import StepOutput

__all__ = [
    # module-level names of the legacy module (served as training.spectrogram_trainer.<name>)
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "Callable",
    "DataLoader",
    "Dict",
    "List",
    "MultiTFRTrainer",
    "Optional",
    "Path",
    "SpectrogramTrainer",
    "Trainer",
    "TrainingState",
    "logger",
    "nn",
    "np",
    "sys",
    "torch",
    "tqdm",
]

logger = get_logger("training.spectrogram_trainer")


class SpectrogramTrainer(Trainer):
    """Legacy Trainer for spectrogram models ``[B, C, H, W]`` with optional SpecAugment."""

    def __init__(self, model: Any, train_loader: Any, val_loader: Any = None, optimizer: Any = None,
                 criterion: Any = None, device: Any = "cuda", use_specaugment: bool = True, time_mask_param: int = 40,
                 freq_mask_param: int = 20, num_time_masks: int = 2, num_freq_masks: int = 2, **kwargs: Any) -> None:
        super().__init__(model, train_loader, val_loader, optimizer, criterion, device, **kwargs)
        self.use_specaugment = use_specaugment
        self.time_mask_param = time_mask_param
        self.freq_mask_param = freq_mask_param
        self.num_time_masks = num_time_masks
        self.num_freq_masks = num_freq_masks

    def apply_specaugment(self, x: torch.Tensor) -> torch.Tensor:
        if not self.use_specaugment or not self.model.training:
            return x
        x = x.clone()
        _, _, height, width = x.shape
        for i in range(x.shape[0]):
            for _ in range(self.num_freq_masks):
                f = int(torch.randint(0, self.freq_mask_param + 1, (1,)))
                f0 = int(torch.randint(0, max(1, height - f), (1,)))
                x[i, :, f0:f0 + f, :] = 0
            for _ in range(self.num_time_masks):
                t = int(torch.randint(0, self.time_mask_param + 1, (1,)))
                t0 = int(torch.randint(0, max(1, width - t), (1,)))
                x[i, :, :, t0:t0 + t] = 0
        return x

    def save_checkpoint(self, filepath: Any, metrics: Any = None, is_best: bool = False) -> None:
        checkpoint = {
            "epoch": self.state.epoch,
            "model_state_dict": self.model.state_dict(),
            "optimizer_state_dict": self.optimizer.state_dict(),
            "best_metric": self.state.best_metric,
            "history": self.state.history,
            "specaugment_config": {
                "use_specaugment": self.use_specaugment,
                "time_mask_param": self.time_mask_param,
                "freq_mask_param": self.freq_mask_param,
                "num_time_masks": self.num_time_masks,
                "num_freq_masks": self.num_freq_masks,
            },
        }
        if metrics is not None:
            checkpoint["metrics"] = metrics
        torch.save(checkpoint, filepath)
        if is_best:
            torch.save(checkpoint, filepath.parent / "best_model.pth")

    @staticmethod
    def load_checkpoint(filepath: Any, model: Any, optimizer: Any = None) -> Any:
        from pfdtrain.checkpoint.format import is_v2
        from pfdtrain.migration.upgraders import downgrade

        checkpoint = torch.load(filepath, map_location="cpu")
        if is_v2(checkpoint):  # migrated, or written by the core Trainer: returned as this writer saved it
            checkpoint = downgrade(checkpoint, "spectrogram_trainer")
        model.load_state_dict(checkpoint["model_state_dict"])
        if optimizer is not None and "optimizer_state_dict" in checkpoint:
            optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        return checkpoint

    def _train_transform(self) -> Any:
        return self.apply_specaugment

    def _bar(self, loader: Any, kind: str) -> B.ProgressLoader:
        if kind != "Train":  # validation is the inherited Trainer's, with that module's bar
            return super()._bar(loader, kind)
        return B.ProgressLoader(loader, lambda it: tqdm(it, desc=f"Epoch {self.state.epoch + 1} [Train]", leave=False))


# ------------------------------------------------------------------------------------ MultiTFR


class _TfrBatches:
    """The training loaders one after another, as ``(tfr, batch index in its loader, batch)``,
    each through its own legacy progress bar (``Epoch n [TFR]``)."""

    def __init__(self, loaders: dict, owner: Any = None) -> None:
        self.loaders = loaders
        self.owner = owner

    def __iter__(self) -> Iterator[tuple[str, int, Any]]:
        for tfr, loader in self.loaders.items():
            bar = loader if self.owner is None else tqdm(
                loader, desc=f"Epoch {self.owner.state.epoch + 1} [{tfr.upper()}]", leave=False)
            for index, batch in enumerate(bar):
                yield tfr, index, batch

    def __len__(self) -> int:
        return sum(len(loader) for loader in self.loaders.values())


class _TfrTask(B.LegacyClassificationTask):
    """Training batches come from :class:`_TfrBatches`: loss x TFR weight, per-TFR metrics, and
    the legacy step decision (``(index in loader + 1) % accumulation == 0``, loss not divided)."""

    def step(self, model: nn.Module, batch: Any, trainer: Any, training: bool) -> StepOutput:
        if not training:
            return super().step(model, batch, trainer, training)
        owner = self.owner
        tfr, index, (inputs, targets) = batch
        owner._tfr_step_now = (index + 1) % owner.gradient_accumulation_steps == 0
        inputs, targets = inputs.to(trainer.device), targets.to(trainer.device)
        if self._transform is not None:
            inputs = self._transform(inputs)
        outputs = model(inputs)
        loss = owner.criterion(outputs, targets) * owner.tfr_weights[tfr]
        return StepOutput(loss=loss, batch_size=targets.size(0), metrics={
            f"{tfr}_loss": loss.detach(), f"{tfr}_acc": B.percent_correct(outputs, targets)})


class _TfrPrecision(PrecisionPlugin):
    """float32; the optimizer steps only where the legacy window closed."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> bool:
        if self.owner._tfr_step_now:
            optimizer.step()
        return True


class _TfrWindowGrads(Plugin):
    """Between legacy steps, keep the accumulated gradients the core clears after every batch."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner
        self._kept: list | None = None

    def on_before_optimizer_step(self, trainer: Any, optimizer: torch.optim.Optimizer) -> None:
        self._kept = None if self.owner._tfr_step_now else [
            (p, p.grad) for group in optimizer.param_groups for p in group["params"]]

    def on_after_optimizer_step(self, trainer: Any) -> None:
        if self._kept is not None:
            for p, grad in self._kept:
                p.grad = grad
            self._kept = None


class _GatedClip(B.ClipModelGrads):
    def on_before_optimizer_step(self, trainer: Any, optimizer: torch.optim.Optimizer) -> None:
        if self.owner._tfr_step_now:
            super().on_before_optimizer_step(trainer, optimizer)


class MultiTFRTrainer(SpectrogramTrainer):
    """Trains one model on several time-frequency representations, one loader each, per epoch."""

    def __init__(self, model: Any, train_loaders: Any, val_loaders: Any = None, tfr_weights: Any = None,
                 **kwargs: Any) -> None:
        # IndexError for an empty dict, as legacy
        train_loader = list(train_loaders.values())[0]  # noqa: RUF015 - IndexError (not StopIteration) when empty
        val_loader = list(val_loaders.values())[0] if val_loaders else None  # noqa: RUF015 - as above
        super().__init__(model=model, train_loader=train_loader, val_loader=val_loader, **kwargs)
        self.train_loaders = train_loaders
        self.val_loaders = val_loaders or {}
        weights = tfr_weights or dict.fromkeys(train_loaders.keys(), 1.0)
        total = sum(weights.values())
        self.tfr_weights = {name: w / total for name, w in weights.items()}
        self._tfr_step_now = True

    def _train_source(self) -> Any:
        return _TfrBatches(self.train_loaders, self)

    def _bar(self, loader: Any, kind: str) -> Any:
        if isinstance(loader, _TfrBatches):  # one bar per TFR loader, made inside
            return loader
        return super()._bar(loader, kind)

    def _train_metrics(self, core_metrics: dict) -> dict[str, float]:
        losses = {f"{t}_loss": B.require(core_metrics, f"train_{t}_loss") for t in self.train_loaders}
        accs = {f"{t}_acc": B.percent(core_metrics, f"train_{t}_acc") for t in self.train_loaders}
        train_loss = sum(losses[f"{t}_loss"] * self.tfr_weights[t] for t in self.train_loaders)
        train_acc = sum(accs[f"{t}_acc"] * self.tfr_weights[t] for t in self.train_loaders)
        return {**losses, **accs, "train_loss": train_loss, "train_acc": train_acc}

    def _make_task(self) -> B.LegacyTask:
        return _TfrTask(self)

    def _core(self, max_epochs: int = 0, callbacks: Any = ()) -> Any:
        plugins = [
            _TfrPrecision(self),
            B.legacy_accumulation(1),
            _GatedClip(self, lambda: self.model),
            _TfrWindowGrads(self),
        ]
        return B.build_core(self.model, self.optimizer, self._make_task(), plugins, callbacks,
                            max_epochs=max_epochs, device=self.device)


def _legacy_main() -> None:
    """``python -m training.spectrogram_trainer``: legacy's SpecAugment demo (``device='cuda'``
    default: on a machine without CUDA it fails in the constructor, as legacy did)."""
    trainer = SpectrogramTrainer(model=nn.Identity(), train_loader=None, use_specaugment=True, time_mask_param=40,
                                 freq_mask_param=20)
    spec = torch.randn(4, 1, 129, 400)
    spec_aug = trainer.apply_specaugment(spec)
    print(f"Original spectrogram shape: {spec.shape}")
    print(f"Augmented spectrogram shape: {spec_aug.shape}")
    print(f"Percentage masked: {((spec_aug == 0).sum() / spec_aug.numel() * 100):.2f}%")
