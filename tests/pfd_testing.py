"""Tiny models and loaders shared by the tests (importable: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class TinyNet(nn.Module):
    """MLP with dropout, so exact-resume tests also cover the RNG that dropout consumes."""

    def __init__(self, in_features: int = 8, num_classes: int = 3, dropout: float = 0.2) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, 16)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


def make_data(n: int = 64, in_features: int = 8, num_classes: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, in_features, generator=g)
    y = torch.randint(0, num_classes, (n,), generator=g)
    return x, y


def make_loader(n: int = 64, batch_size: int = 8, shuffle: bool = False, seed: int = 0, **kw) -> DataLoader:
    x, y = make_data(n, seed=seed)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, **kw)


def make_model(seed: int = 0, **kw) -> TinyNet:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return TinyNet(**kw)


def weights_only_roundtrip(obj):
    """``obj`` through ``torch.save`` and ``torch.load(weights_only=True)``, as a v2 checkpoint stores it."""
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)
