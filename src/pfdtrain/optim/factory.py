"""``create_scheduler(name, optimizer, **kwargs)``: the one scheduler factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import lr_scheduler as torch_sched

from pfdtrain.optim.schedulers import (
    LinearWarmup,
    NoamLR,
    PolynomialDecayLR,
    WarmupCosineLR,
    WarmupLinearLR,
)

SCHEDULERS: dict[str, Callable[..., Any]] = {
    "warmup": LinearWarmup,
    "warmup_cosine": WarmupCosineLR,
    "warmup_linear": WarmupLinearLR,
    "cosine": torch_sched.CosineAnnealingLR,
    "cosine_restarts": torch_sched.CosineAnnealingWarmRestarts,
    "step": torch_sched.StepLR,
    "exponential": torch_sched.ExponentialLR,
    "polynomial": PolynomialDecayLR,
    "onecycle": torch_sched.OneCycleLR,
    "plateau": torch_sched.ReduceLROnPlateau,
    "noam": NoamLR,
}


def create_scheduler(name: str, optimizer: torch.optim.Optimizer, **kwargs: Any) -> torch_sched.LRScheduler:
    """Build a scheduler by name (case-insensitive); ``kwargs`` go to its constructor unchanged.

    ``warmup`` (``warmup_steps``, ``after``), ``warmup_cosine`` / ``warmup_linear``
    (``warmup_steps``, ``total_steps``, ``min_lr_ratio``), ``polynomial`` (``total_steps``,
    ``power``, ``end_lr``), ``noam`` (``d_model``, ``warmup_steps``, ``scale``); the others are the
    torch schedulers with torch's keywords (``cosine``: ``T_max``, ``eta_min``; ``cosine_restarts``:
    ``T_0``, ``T_mult``; ``step``: ``step_size``, ``gamma``; ``exponential``: ``gamma``;
    ``onecycle``: ``max_lr``, ``total_steps`` ...; ``plateau``: ``mode``, ``factor``, ``patience``).
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in SCHEDULERS:
        raise ValueError(f"Unknown scheduler {name!r}. Valid names: {', '.join(sorted(SCHEDULERS))}")
    return SCHEDULERS[key](optimizer, **kwargs)
