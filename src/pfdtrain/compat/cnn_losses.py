"""Legacy ``training.cnn_losses`` on top of :mod:`pfdtrain.losses`.

Kept quirks: ``FocalLoss`` takes ``-log(p_t + 1e-8)`` from softmax and silently ignores a
non-tensor ``alpha``; label smoothing asserts ``0 <= smoothing < 1``; a ``reduction`` other than
``'mean'``/``'sum'`` returns the per-sample vector; ``create_criterion`` is case-sensitive,
forwards only ``smoothing``, ``gamma``/``alpha`` and ``temperature`` and drops every other keyword.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, Optional, get_logger
from pfdtrain.losses import check_smoothing, focal_loss, label_smoothing_cross_entropy, supcon_loss

__all__ = [
    # module-level names of the legacy module (served as training.cnn_losses.<name>)
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "F",
    "FocalLoss",
    "LabelSmoothingCrossEntropy",
    "Optional",
    "SupConLoss",
    "create_criterion",
    "logger",
    "nn",
    "test_losses",
    "torch",
]

logger = get_logger("training.cnn_losses")

_LOG_EPS = 1e-8


def _legacy_reduction(reduction: str) -> str:
    return reduction if reduction in ("mean", "sum") else "none"


class LabelSmoothingCrossEntropy(nn.Module):
    def __init__(self, smoothing: float = 0.1, reduction: str = "mean") -> None:
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
    def __init__(self, alpha: Any = None, gamma: float = 2.0, reduction: str = "mean") -> None:
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
    def __init__(self, temperature: float = 0.1, base_temperature: float = 0.07) -> None:
        super().__init__()
        self.temperature = temperature
        self.base_temperature = base_temperature

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return supcon_loss(features, labels, self.temperature, self.base_temperature)


def create_criterion(criterion_type: str = "label_smoothing", num_classes: int = NUM_CLASSES,
                     **kwargs: Any) -> nn.Module:
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
    """Legacy self-test: each loss on random logits/targets from the global RNG (16 x NUM_CLASSES),
    with legacy's printed lines and checks."""
    print("=" * 60)
    print("Testing CNN Loss Functions")
    print("=" * 60)
    batch_size, num_classes = 16, NUM_CLASSES
    logits = torch.randn(batch_size, num_classes)
    targets = torch.randint(0, num_classes, (batch_size,))
    checks: list[tuple[str, nn.Module]] = [
        ("CrossEntropyLoss", nn.CrossEntropyLoss()),
        ("LabelSmoothingCrossEntropy", LabelSmoothingCrossEntropy(smoothing=0.1)),
        ("FocalLoss", FocalLoss(gamma=2.0)),
    ]
    for number, (name, criterion) in enumerate(checks, start=1):
        print(f"\n{number}. Testing {name}...")
        loss = criterion(logits, targets)
        print(f"   Loss: {loss.item():.4f}")
        assert loss.item() > 0

    print("\n4. Testing SupConLoss...")
    features = F.normalize(torch.randn(batch_size, 128), dim=1)
    loss = SupConLoss(temperature=0.1)(features, targets)
    print(f"   Loss: {loss.item():.4f}")
    assert loss.item() > 0

    print("\n5. Testing create_criterion factory...")
    first, second = create_criterion("label_smoothing", smoothing=0.1), create_criterion("focal", gamma=2.0)
    print(f"   Created: {type(first).__name__}, {type(second).__name__}")

    print("\n6. Testing gradient flow...")
    logits = torch.randn(batch_size, num_classes, requires_grad=True)
    LabelSmoothingCrossEntropy(smoothing=0.1)(logits, targets).backward()
    assert logits.grad is not None
    print("   Gradients computed successfully")

    print("\n" + "=" * 60)
    print("✅ All loss function tests passed!")
    print("=" * 60)


def _legacy_main() -> None:
    """``python -m training.cnn_losses``."""
    test_losses()
