"""Temporal smoothness: class probabilities of consecutive windows should change slowly."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TemporalSmoothnessLoss(nn.Module):
    """``weight * mean_{t,b} sum_k (p_{t+1} - p_t)^2`` for logits ``[T, B, K]``, ``p = softmax``.

    With ``time_delta`` (per-sample spacing) the value is divided by ``mean(time_delta) + 1e-6``.
    Sequences shorter than 2 give 0.
    """

    def __init__(self, smoothness_weight: float = 1.0) -> None:
        super().__init__()
        self.smoothness_weight = smoothness_weight

    def forward(self, predictions_sequence: torch.Tensor, time_delta: torch.Tensor | None = None) -> torch.Tensor:
        if predictions_sequence.dim() != 3:
            raise ValueError(
                f"predictions_sequence must be [T, B, K]; received {list(predictions_sequence.shape)}"
            )
        if predictions_sequence.shape[0] < 2:
            return predictions_sequence.new_zeros(())
        p = F.softmax(predictions_sequence, dim=-1)
        loss = ((p[1:] - p[:-1]) ** 2).sum(-1).mean()
        if time_delta is not None:
            loss = loss / (time_delta.mean() + 1e-6)
        return self.smoothness_weight * loss
