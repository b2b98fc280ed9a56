"""Synthetic vibration signals: one tone per fault class plus noise, with a per-sample rpm."""

import math

import torch
from torch.utils.data import DataLoader, Dataset

NUM_CLASSES = 8          # fault types 0-7
SIGNAL_LENGTH = 256
SAMPLE_RATE = 20480


class BearingDataset(Dataset):
    """``(signal [1, L], label)``, or ``(signal, label, {'rpm': rpm})`` with ``with_metadata=True``."""

    def __init__(self, num_samples, seed, with_metadata=False):
        g = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, NUM_CLASSES, (num_samples,), generator=g)
        t = torch.arange(SIGNAL_LENGTH) / SIGNAL_LENGTH
        phase = 2 * math.pi * torch.rand(num_samples, 1, generator=g)
        freq = (2 + 3 * self.labels).float().unsqueeze(1)
        amp = (0.5 + 0.25 * self.labels).float().unsqueeze(1)
        noise = 1.2 * torch.randn(num_samples, SIGNAL_LENGTH, generator=g)
        self.signals = (amp * torch.sin(2 * math.pi * freq * t + phase) + noise).unsqueeze(1)
        self.rpm = 1500.0 + 300.0 * torch.randint(0, 5, (num_samples,), generator=g).float()
        self.with_metadata = with_metadata

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        if self.with_metadata:
            return self.signals[idx], self.labels[idx], {"rpm": self.rpm[idx]}
        return self.signals[idx], self.labels[idx]


def get_loaders(batch_size=16, with_metadata=False, seed=0):
    """Train (160 signals, shuffled) and validation (64 signals) loaders."""
    train = BearingDataset(160, seed, with_metadata)
    val = BearingDataset(64, seed + 1, with_metadata)
    return (DataLoader(train, batch_size=batch_size, shuffle=True),
            DataLoader(val, batch_size=batch_size, shuffle=False))
