"""Supervised contrastive loss (Khosla et al. 2020) on one view of ``[B, D]`` features."""

from __future__ import annotations

import torch
from torch import nn


def supcon_loss(
    features: torch.Tensor, labels: torch.Tensor, temperature: float = 0.1, base_temperature: float = 0.07
) -> torch.Tensor:
    """Mean over anchors of ``-(T/T_b) * mean_{positives} log p(positive | anchor)``.

    An anchor without a positive pair contributes 0 but still counts in the mean (the ``+1e-8``
    guards keep the value finite).
    """
    if features.dim() != 2 or labels.dim() != 1 or labels.shape[0] != features.shape[0]:
        raise ValueError(
            "supcon_loss expects features [B, D] and labels [B]; received features "
            f"{list(features.shape)} and labels {list(labels.shape)}"
        )
    batch = features.shape[0]
    logits = features @ features.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    not_self = 1.0 - torch.eye(batch, device=features.device, dtype=logits.dtype)
    positives = (labels.unsqueeze(0) == labels.unsqueeze(1)).to(logits.dtype) * not_self
    denominator = (torch.exp(logits) * not_self).sum(dim=1, keepdim=True)
    log_prob = logits - torch.log(denominator + 1e-8)
    mean_log_prob_pos = (positives * log_prob).sum(dim=1) / (positives.sum(dim=1) + 1e-8)
    return (-(temperature / base_temperature) * mean_log_prob_pos).mean()


class SupConLoss(nn.Module):
    """Module form of :func:`supcon_loss`."""

    def __init__(self, temperature: float = 0.1, base_temperature: float = 0.07) -> None:
        super().__init__()
        self.temperature = temperature
        self.base_temperature = base_temperature

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return supcon_loss(features, labels, self.temperature, self.base_temperature)
