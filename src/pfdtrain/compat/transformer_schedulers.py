"""Legacy ``training.transformer_schedulers`` on top of :mod:`pfdtrain.optim`.

The factories return ``torch.optim.lr_scheduler.LambdaLR`` driven by the plain-data factor
objects of :mod:`pfdtrain.optim.factors`. Kept quirks: warm-up cosine is not clamped after
``total_epochs`` (it rises again) and divides by zero when ``warmup_epochs == total_epochs``;
``get_scheduler`` is case-sensitive with per-type defaults (warm-up 10 for cosine, 5 for linear).
"""

from __future__ import annotations

from torch.optim.lr_scheduler import LambdaLR

from pfdtrain.optim import Noam, WarmupCosine, WarmupCosineLR, WarmupLinear

__all__ = [
    "WarmupCosineScheduler",
    "create_noam_schedule",
    "create_warmup_cosine_schedule",
    "create_warmup_linear_schedule",
    "get_scheduler",
]


def create_warmup_cosine_schedule(optimizer, warmup_epochs, total_epochs, min_lr_ratio=0.0):
    return LambdaLR(optimizer, WarmupCosine(warmup_epochs, total_epochs, min_lr_ratio, clamp=False))


def create_warmup_linear_schedule(optimizer, warmup_epochs, total_epochs, min_lr_ratio=0.0):
    return LambdaLR(optimizer, WarmupLinear(warmup_epochs, total_epochs, min_lr_ratio))


def create_noam_schedule(optimizer, d_model, warmup_steps=4000, scale=1.0):
    return LambdaLR(optimizer, Noam(d_model, warmup_steps, scale))


class WarmupCosineScheduler(WarmupCosineLR):
    def __init__(self, optimizer, warmup_epochs, total_epochs, min_lr_ratio=0.0, last_epoch=-1):
        self.warmup_epochs = warmup_epochs
        self.total_epochs = total_epochs
        super().__init__(optimizer, warmup_epochs, total_epochs, min_lr_ratio, clamp=False, last_epoch=last_epoch)


def get_scheduler(optimizer, scheduler_type="warmup_cosine", **kwargs):
    if scheduler_type == "warmup_cosine":
        return create_warmup_cosine_schedule(
            optimizer, warmup_epochs=kwargs.get("warmup_epochs", 10),
            total_epochs=kwargs.get("total_epochs", 100), min_lr_ratio=kwargs.get("min_lr_ratio", 0.0))
    if scheduler_type == "warmup_linear":
        return create_warmup_linear_schedule(
            optimizer, warmup_epochs=kwargs.get("warmup_epochs", 5),
            total_epochs=kwargs.get("total_epochs", 100), min_lr_ratio=kwargs.get("min_lr_ratio", 0.0))
    if scheduler_type == "noam":
        return create_noam_schedule(
            optimizer, d_model=kwargs.get("d_model", 256), warmup_steps=kwargs.get("warmup_steps", 4000),
            scale=kwargs.get("scale", 1.0))
    raise ValueError(
        f"Unknown scheduler type: {scheduler_type}. Supported types: 'warmup_cosine', 'warmup_linear', 'noam'"
    )
