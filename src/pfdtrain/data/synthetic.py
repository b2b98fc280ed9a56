"""Vibration-like signals for the 11 fault classes, generated from a seed.

Each class gets the spectral signature the LSTM-PFD physics model expects at the shaft speed
(harmonics of the shaft frequency, bearing defect frequencies, high-frequency bursts), plus
noise and a random phase, so a small CNN can learn them in a few epochs on a CPU.
"""

from __future__ import annotations

import math

import torch
from torch.utils.data import TensorDataset

SAMPLE_RATE = 20480
FAULT_CLASSES = (
    "healthy", "misalignment", "imbalance", "looseness", "lubrication", "cavitation", "wear",
    "oil_whirl", "combined_misalign_imbalance", "combined_wear_lube", "combined_cavit_jeu",
)

# SKF 6205 ratios to the shaft frequency f_s (BPFO, BPFI, FTF)
_BPFO, _BPFI, _FTF = 3.5848, 5.4152, 0.3983


def _components(label: int, fs: float) -> list[tuple[float, float]]:
    """(frequency Hz, amplitude) pairs of one class at shaft frequency ``fs``."""
    table = {
        0: [(fs, 0.2)],
        1: [(fs, 1.0), (2 * fs, 0.5), (3 * fs, 0.33)],
        2: [(fs, 1.5)],
        3: [(fs, 0.7), (2 * fs, 0.6), (3 * fs, 0.5), (0.5 * fs, 0.5)],
        4: [(2000.0, 0.6), (3000.0, 0.6), (4000.0, 0.6)],
        5: [(2500.0, 0.8), (3500.0, 0.4)],
        6: [(_BPFO * fs, 0.8), (_BPFI * fs, 0.6), (_FTF * fs, 0.4)],
        7: [(0.43 * fs, 1.0), (fs, 0.3)],
    }
    if label == 8:
        return table[1] + table[2]
    if label == 9:
        return table[6] + table[4]
    if label == 10:
        return table[5] + table[3]
    return table[label]


def make_vibration_dataset(
    samples_per_class: int = 32,
    length: int = 2048,
    num_classes: int = 11,
    rpm: float = 3600.0,
    noise: float = 0.5,
    seed: int = 0,
) -> TensorDataset:
    """Signals ``[N, 1, length]`` (float32), labels ``[N]`` and per-sample ``rpm`` ``[N]``."""
    if not 1 <= num_classes <= len(FAULT_CLASSES):
        raise ValueError(f"num_classes must be in 1..{len(FAULT_CLASSES)}, got {num_classes}")
    g = torch.Generator().manual_seed(seed)
    n = samples_per_class * num_classes
    labels = torch.arange(num_classes).repeat_interleave(samples_per_class)
    rpms = rpm * (1.0 + 0.05 * (torch.rand(n, generator=g) - 0.5))
    t = torch.arange(length, dtype=torch.float64) / SAMPLE_RATE
    signals = torch.empty(n, 1, length)
    for i in range(n):
        fs = float(rpms[i]) / 60.0
        x = torch.zeros(length, dtype=torch.float64)
        for freq, amp in _components(int(labels[i]), fs):
            phase = float(torch.rand((), generator=g)) * 2 * math.pi
            x += amp * torch.sin(2 * math.pi * freq * t + phase)
        if int(labels[i]) in (5, 10):  # cavitation: bursts
            x *= 1.0 + (torch.rand(length, generator=g, dtype=torch.float64) > 0.97).double() * 3.0
        x += noise * torch.randn(length, generator=g, dtype=torch.float64)
        signals[i, 0] = x.float()
    order = torch.randperm(n, generator=g)
    return TensorDataset(signals[order], labels[order], rpms[order].float())
