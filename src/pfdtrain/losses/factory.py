"""``create_loss(name, **kwargs)``: the one loss factory; unknown names and keywords are errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from pfdtrain.losses.distillation import DistillationLoss
from pfdtrain.losses.focal import FocalLoss
from pfdtrain.losses.label_smoothing import LabelSmoothingCrossEntropy
from pfdtrain.losses.physics_informed import PhysicsInformedLoss
from pfdtrain.losses.supcon import SupConLoss

LOSSES: dict[str, Callable[..., nn.Module]] = {
    "cross_entropy": nn.CrossEntropyLoss,
    "ce": nn.CrossEntropyLoss,
    "focal": FocalLoss,
    "label_smoothing": LabelSmoothingCrossEntropy,
    "supcon": SupConLoss,
    "distillation": DistillationLoss,
    "physics_informed": PhysicsInformedLoss,
}


def create_loss(name: str, **kwargs: Any) -> nn.Module:
    """Build a loss by name (case-insensitive). Keyword arguments go to its constructor unchanged,
    so a misspelt keyword raises ``TypeError`` instead of being dropped."""
    key = name.lower() if isinstance(name, str) else name
    if key not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}. Valid names: {', '.join(sorted(LOSSES))}")
    return LOSSES[key](**kwargs)
