"""Legacy ``training.cnn_losses`` on top of :mod:`pfdtrain.losses`.

Kept quirks: ``FocalLoss`` takes ``-log(p_t + 1e-8)`` from softmax and silently ignores a
non-tensor ``alpha``; label smoothing asserts ``0 <= smoothing < 1``; a ``reduction`` other than
``'mean'``/``'sum'`` returns the per-sample vector; ``create_criterion`` is case-sensitive,
forwards only ``smoothing``, ``gamma``/``alpha`` and ``temperature`` and drops every other keyword.
"""

from __future__ import annotations

import torch
from torch import nn

from pfdtrain.losses import check_smoothing, focal_loss, label_smoothing_cross_entropy, supcon_loss
from pfdtrain.physics.constants import NUM_CLASSES

__all__ = [
    "NUM_CLASSES",
    "FocalLoss",
    "LabelSmoothingCrossEntropy",
    "SupConLoss",
    "create_criterion",
    "test_losses",
]

_LOG_EPS = 1e-8


def _legacy_reduction(reduction: str) -> str:
    return reduction if reduction in ("mean", "sum") else "none"


class LabelSmoothingCrossEntropy(nn.Module):
    def __init__(self, smoothing: float = 0.1, reduction: str = "mean"):
        super().__init__()
        try:
            check_smoothing(smoothing)
        except ValueError:
            raise AssertionError("Smoothing must be in [0, 1)") from None
        self.smoothing = smoothing
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return label_smoothing_cross_entropy(
            logits, targets, self.smoothing, _legacy_reduction(self.reduction)
        )


class FocalLoss(nn.Module):
    def __init__(self, alpha=None, gamma: float = 2.0, reduction: str = "mean"):
        super().__init__()
        self.alpha = alpha
        self.gamma = gamma
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        alpha = self.alpha if isinstance(self.alpha, torch.Tensor) else None
        return focal_loss(
            logits, targets, self.gamma, alpha, _legacy_reduction(self.reduction), log_eps=_LOG_EPS
        )


class SupConLoss(nn.Module):
    def __init__(self, temperature: float = 0.1, base_temperature: float = 0.07):
        super().__init__()
        self.temperature = temperature
        self.base_temperature = base_temperature

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return supcon_loss(features, labels, self.temperature, self.base_temperature)


def create_criterion(criterion_type: str = "label_smoothing", num_classes: int = NUM_CLASSES, **kwargs) -> nn.Module:
    if criterion_type == "ce":
        return nn.CrossEntropyLoss()
    if criterion_type == "label_smoothing":
        return LabelSmoothingCrossEntropy(smoothing=kwargs.get("smoothing", 0.1))
    if criterion_type == "focal":
        return FocalLoss(alpha=kwargs.get("alpha"), gamma=kwargs.get("gamma", 2.0))
    if criterion_type == "supcon":
        return SupConLoss(temperature=kwargs.get("temperature", 0.1))
    raise ValueError(f"Unknown criterion type: {criterion_type}")


def test_losses() -> None:
    """Smoke test: every criterion gives a finite loss and a gradient on random data."""
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(8, NUM_CLASSES, generator=gen, requires_grad=True)
    targets = torch.randint(0, NUM_CLASSES, (8,), generator=gen)
    for name in ("ce", "label_smoothing", "focal"):
        loss = create_criterion(name)(logits, targets)
        loss.backward()
        assert torch.isfinite(loss), name
        print(f"{name}: {loss.item():.4f}")
    features = nn.functional.normalize(torch.randn(8, 16, generator=gen), dim=1)
    loss = create_criterion("supcon")(features, targets)
    assert torch.isfinite(loss)
    print(f"supcon: {loss.item():.4f}")
    print("All loss tests passed")
