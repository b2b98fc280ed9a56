"""Weighted sum of a data term (cross-entropy) and an externally computed physics term."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PhysicsInformedLoss(nn.Module):
    """``data_weight * CE(predictions, targets) + physics_weight * physics_loss`` (if given).

    The physics term comes from :mod:`pfdtrain.physics` (or any 0-d tensor); keeping it outside
    lets one criterion serve models with and without physics inputs.
    """

    def __init__(self, data_weight: float = 1.0, physics_weight: float = 0.1) -> None:
        super().__init__()
        self.data_weight = data_weight
        self.physics_weight = physics_weight

    def forward(
        self, predictions: torch.Tensor, targets: torch.Tensor, physics_loss: torch.Tensor | None = None
    ) -> torch.Tensor:
        loss = self.data_weight * F.cross_entropy(predictions, targets)
        if physics_loss is not None:
            loss = loss + self.physics_weight * physics_loss
        return loss
