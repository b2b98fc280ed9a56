"""Legacy ``training.mixed_precision``: ``MixedPrecisionTrainer`` and two helper functions.

``MixedPrecisionTrainer`` is the legacy :class:`~pfdtrain.compat.trainer.Trainer` with AMP forced
on: fp16 autocast and a GradScaler on CUDA; on a CPU-only machine both switch themselves off and
training is plain float32 (the legacy deprecation warnings are not reproduced). Kept legacy
behaviour (``docs/compatibility.md``): default ``device='cuda'``; ``_backward_pass`` and
``_optimizer_step`` exist but the training loop never calls them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, GradScaler, Optional, autocast, get_logger
from pfdtrain.compat.trainer import Trainer

__all__ = [
    # module-level names of the legacy module (served as training.mixed_precision.<name>)
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "GradScaler",
    "MixedPrecisionTrainer",
    "Optional",
    "Trainer",
    "autocast",
    "check_mixed_precision_support",
    "enable_mixed_precision",
    "logger",
    "nn",
    "torch",
]

logger = get_logger("training.mixed_precision")


class MixedPrecisionTrainer(Trainer):
    """Legacy Trainer with ``mixed_precision=True`` and an optional GradScaler of your own."""

    def __init__(self, model: Any, train_loader: Any, val_loader: Any = None, optimizer: Any = None,
                 criterion: Any = None, device: Any = "cuda", callbacks: Any = None,
                 gradient_accumulation_steps: int = 1, max_grad_norm: float = 1.0, grad_scaler: Any = None) -> None:
        super().__init__(model, train_loader, val_loader, optimizer, criterion, device, callbacks,
                         gradient_accumulation_steps, max_grad_norm, mixed_precision=True)
        self.scaler: Any = GradScaler() if grad_scaler is None else grad_scaler  # this module's GradScaler

    def _backward_pass(self, loss: Any, optimizer: Any) -> None:
        self.scaler.scale(loss).backward()

    def _optimizer_step(self, optimizer: Any) -> None:
        if self.max_grad_norm > 0:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
        self.scaler.step(optimizer)
        self.scaler.update()
        optimizer.zero_grad()


def enable_mixed_precision() -> None:
    """Allow TF32 matmuls and cuDNN convolutions (global flags), as legacy did."""
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    print("Mixed precision training enabled")


def check_mixed_precision_support() -> Any:
    """True when an fp16 CUDA matmul works; prints what it found."""
    if not torch.cuda.is_available():
        print("CUDA not available - mixed precision not supported")
        return False
    try:
        x = torch.randn(10, 10, device="cuda", dtype=torch.float16)
        torch.matmul(x, x)
    except Exception as e:
        print(f"Mixed precision not supported: {e}")
        return False
    print("Mixed precision training supported")
    return True
