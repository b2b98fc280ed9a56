"""Cross-entropy against a smoothed target: ``s/K`` everywhere plus ``1 - s`` on the true class."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain.losses._checks import check_logits_targets, check_reduction, reduce


def check_smoothing(smoothing: float, allow_uniform: bool = False) -> float:
    """``0 <= s < 1``; ``allow_uniform=True`` also accepts ``s = 1`` (a uniform target)."""
    ok = 0.0 <= smoothing <= 1.0 if allow_uniform else 0.0 <= smoothing < 1.0
    if not ok:
        bound = "[0, 1]" if allow_uniform else "[0, 1)"
        raise ValueError(f"smoothing must be in {bound}, got {smoothing!r}")
    return smoothing


def label_smoothing_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, smoothing: float = 0.1, reduction: str = "mean"
) -> torch.Tensor:
    """``sum_k -target_k * log_softmax(logits)_k`` per sample, reduced. ``smoothing`` is not range-checked here."""
    check_logits_targets(logits, targets, "label_smoothing_cross_entropy")
    check_reduction(reduction)
    num_classes = logits.shape[1]
    log_probs = F.log_softmax(logits, dim=1)
    target = torch.full_like(log_probs, smoothing / num_classes)
    target.scatter_(1, targets.unsqueeze(1), 1.0 - smoothing + smoothing / num_classes)
    return reduce(-(target * log_probs).sum(dim=1), reduction)


class LabelSmoothingCrossEntropy(nn.Module):
    """Module form; ``allow_uniform=True`` accepts ``smoothing=1`` (legacy ``training.losses``)."""

    def __init__(self, smoothing: float = 0.1, reduction: str = "mean", allow_uniform: bool = False) -> None:
        super().__init__()
        self.smoothing = check_smoothing(smoothing, allow_uniform)
        self.reduction = check_reduction(reduction)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return label_smoothing_cross_entropy(logits, targets, self.smoothing, self.reduction)
