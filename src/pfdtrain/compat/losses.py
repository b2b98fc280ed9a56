"""Legacy ``training.losses`` (older loss variants) on top of :mod:`pfdtrain.losses`.

Kept quirks: ``FocalLoss`` needs a tensor ``alpha`` (a float raises ``AttributeError`` on the
first call) and moves it to the input device, storing it back; label smoothing accepts any
``smoothing`` (1.0 gives a uniform target); a ``reduction`` other than ``'mean'``/``'sum'``
returns the per-sample vector; ``compute_class_weights`` gives absent classes ``N / 1e-10``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, Optional, get_logger
from pfdtrain.losses import PhysicsInformedLoss as _CorePhysicsInformedLoss
from pfdtrain.losses import focal_loss, label_smoothing_cross_entropy

__all__ = [
    # module-level names of the legacy module (served as training.losses.<name>)
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "F",
    "FocalLoss",
    "LabelSmoothingCrossEntropy",
    "Optional",
    "PhysicsInformedLoss",
    "compute_class_weights",
    "logger",
    "nn",
    "torch",
]

logger = get_logger("training.losses")


def _legacy_reduction(reduction: str) -> str:
    return reduction if reduction in ("mean", "sum") else "none"


class FocalLoss(nn.Module):
    def __init__(self, alpha: Any = None, gamma: Any = 2.0, reduction: Any = "mean") -> None:
        super().__init__()
        self.alpha = alpha
        self.gamma = gamma
        self.reduction = reduction

    def forward(self, inputs: Any, targets: torch.Tensor) -> Any:
        if self.alpha is not None and self.alpha.device != inputs.device:
            self.alpha = self.alpha.to(inputs.device)
        return focal_loss(inputs, targets, self.gamma, self.alpha, _legacy_reduction(self.reduction))


class LabelSmoothingCrossEntropy(nn.Module):
    def __init__(self, smoothing: float = 0.1, reduction: Any = "mean") -> None:
        super().__init__()
        self.smoothing = smoothing
        self.reduction = reduction

    def forward(self, inputs: Any, targets: torch.Tensor) -> Any:
        return label_smoothing_cross_entropy(
            inputs, targets, self.smoothing, _legacy_reduction(self.reduction)
        )


class PhysicsInformedLoss(_CorePhysicsInformedLoss):
    """The core loss with legacy's ``ce_loss`` sub-module, which ``forward`` calls (as legacy's did)."""

    def __init__(self, data_weight: float = 1.0, physics_weight: float = 0.1) -> None:
        super().__init__(data_weight, physics_weight)
        self.ce_loss = nn.CrossEntropyLoss()

    def forward(self, predictions: torch.Tensor, targets: torch.Tensor, physics_loss: Any = None) -> Any:
        total_loss = self.data_weight * self.ce_loss(predictions, targets)
        if physics_loss is not None:
            total_loss = total_loss + self.physics_weight * physics_loss
        return total_loss


def compute_class_weights(targets: torch.Tensor, num_classes: int) -> Any:
    """``N / (K * bincount(targets, minlength=K) + 1e-10)`` with torch's own checks of ``targets``
    (legacy's formula; :func:`pfdtrain.losses.compute_class_weights` is the checked version)."""
    counts = torch.bincount(targets, minlength=num_classes).float()
    return counts.sum() / (num_classes * counts + 1e-10)
