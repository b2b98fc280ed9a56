"""Legacy ``training.transformer_schedulers`` on top of :mod:`pfdtrain.optim`.

The factories return ``torch.optim.lr_scheduler.LambdaLR`` driven by the plain-data factor
objects of :mod:`pfdtrain.optim.factors`. Kept quirks: warm-up cosine is not clamped after
``total_epochs`` (it rises again) and divides by zero when ``warmup_epochs == total_epochs``;
``get_scheduler`` is case-sensitive with per-type defaults (warm-up 10 for cosine, 5 for linear).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.optim.lr_scheduler import LambdaLR, _LRScheduler

from pfdtrain.compat._legacy_names import Optional, get_logger
from pfdtrain.optim import Noam, WarmupCosine, WarmupCosineLR, WarmupLinear

__all__ = [
    # module-level names of the legacy module (served as training.transformer_schedulers.<name>)
    "LambdaLR",
    "Optional",
    "WarmupCosineScheduler",
    "_LRScheduler",
    "create_noam_schedule",
    "create_warmup_cosine_schedule",
    "create_warmup_linear_schedule",
    "get_scheduler",
    "logger",
    "math",
    "torch",
]

logger = get_logger("training.transformer_schedulers")


def create_warmup_cosine_schedule(optimizer: Any, warmup_epochs: int, total_epochs: int,
                                  min_lr_ratio: float = 0.0) -> Any:
    return LambdaLR(optimizer, WarmupCosine(warmup_epochs, total_epochs, min_lr_ratio, clamp=False))


def create_warmup_linear_schedule(optimizer: Any, warmup_epochs: int, total_epochs: int,
                                  min_lr_ratio: float = 0.0) -> Any:
    return LambdaLR(optimizer, WarmupLinear(warmup_epochs, total_epochs, min_lr_ratio))


def create_noam_schedule(optimizer: Any, d_model: int, warmup_steps: int = 4000, scale: Any = 1.0) -> Any:
    return LambdaLR(optimizer, Noam(d_model, warmup_steps, scale))


class WarmupCosineScheduler(WarmupCosineLR):
    def __init__(self, optimizer: Any, warmup_epochs: int, total_epochs: int, min_lr_ratio: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.warmup_epochs = warmup_epochs
        self.total_epochs = total_epochs
        super().__init__(optimizer, warmup_epochs, total_epochs, min_lr_ratio, clamp=False, last_epoch=last_epoch)


def get_scheduler(optimizer: Any, scheduler_type: str = "warmup_cosine", **kwargs: Any) -> Any:
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


def _plot(values: list[float], xlabel: str, title: str, marker: int, marker_label: str, path: str) -> None:
    import matplotlib.pyplot as plt  # type: ignore[import-not-found]  # optional; legacy imported it here too

    plt.figure(figsize=(10, 6))
    plt.plot(values, linewidth=2)
    plt.xlabel(xlabel, fontsize=12)
    plt.ylabel("Learning Rate", fontsize=12)
    plt.title(title, fontsize=14)
    plt.grid(True, alpha=0.3)
    plt.axvline(x=marker, color="r", linestyle="--", label=marker_label)
    plt.legend()
    plt.tight_layout()
    plt.savefig(path, dpi=300)


def _legacy_main() -> None:
    """``python -m training.transformer_schedulers``: plots both schedules to PNG files in the
    working directory, as legacy did (needs matplotlib)."""
    import matplotlib.pyplot  # noqa: F401 - fail before any work without matplotlib, as legacy did

    model = torch.nn.Linear(10, 10)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = create_warmup_cosine_schedule(optimizer, warmup_epochs=10, total_epochs=100, min_lr_ratio=0.1)
    lrs = []
    for _ in range(100):
        lrs.append(optimizer.param_groups[0]["lr"])
        scheduler.step()
    _plot(lrs, "Epoch", "Warmup-Cosine Learning Rate Schedule", 10, "End of Warmup", "warmup_cosine_schedule.png")
    print("Saved warmup-cosine schedule visualization to 'warmup_cosine_schedule.png'")

    noam_optimizer = torch.optim.Adam(model.parameters(), lr=1.0)
    noam = create_noam_schedule(noam_optimizer, d_model=256, warmup_steps=4000)
    lrs = []
    for _ in range(20000):
        lrs.append(noam_optimizer.param_groups[0]["lr"])
        noam.step()
    _plot(lrs, "Training Step", "Noam Learning Rate Schedule (d_model=256)", 4000, "End of Warmup (4000 steps)",
          "noam_schedule.png")
    print("Saved Noam schedule visualization to 'noam_schedule.png'")
    print("\nScheduler test complete!")
