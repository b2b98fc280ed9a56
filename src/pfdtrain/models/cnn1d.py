"""A small 1-D CNN for raw vibration signals ``[B, 1, T]``."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class SmallCNN1D(nn.Module):
    def __init__(self, num_classes: int = 11, channels: int = 16, in_channels: int = 1) -> None:
        super().__init__()
        self.num_classes, self.channels, self.in_channels = num_classes, channels, in_channels
        c = channels
        self.features = nn.Sequential(
            nn.Conv1d(in_channels, c, kernel_size=15, stride=4, padding=7), nn.BatchNorm1d(c), nn.ReLU(),
            nn.Conv1d(c, 2 * c, kernel_size=9, stride=4, padding=4), nn.BatchNorm1d(2 * c), nn.ReLU(),
            nn.Conv1d(2 * c, 2 * c, kernel_size=5, stride=2, padding=2), nn.BatchNorm1d(2 * c), nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
        )
        self.classifier = nn.Linear(2 * c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))

    def get_config(self) -> dict[str, Any]:
        """Plain-data constructor arguments, recorded in checkpoints to rebuild the model."""
        return {"num_classes": self.num_classes, "channels": self.channels, "in_channels": self.in_channels}
