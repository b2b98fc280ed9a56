"""Legacy ``training.advanced_augmentation`` (signals ``[B, C, T]``).

Random choices are drawn from the *global* ``numpy.random`` / ``random`` / ``torch`` streams,
with the same calls in the same order as legacy, so seeded runs reproduce legacy outputs bit for
bit; the operations themselves are :mod:`pfdtrain.augment.functional` kernels. Kept quirks:
one cut per batch, mixed-label width ``label1.max() + 1``, cutmix label weights inverted (``lam``
goes to ``label1`` although ``lam`` is the share pasted from ``signal2``), inputs returned as the
same objects when nothing is applied, FGSM leaves the model in ``eval()`` with ``.grad`` set.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain.augment import functional as K
from pfdtrain.augment.adversarial import fgsm
from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, Callable, List, Optional, Tuple, get_logger

__all__ = [
    # module-level names of the legacy module (served as training.advanced_augmentation.<name>)
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "AutoAugment",
    "Callable",
    "CompositeAugmentation",
    "F",
    "List",
    "MixupAugmentation",
    "Optional",
    "Tuple",
    "adversarial_augmentation",
    "amplitude_scaling",
    "cutmix",
    "cutmix_batch",
    "gaussian_noise_augmentation",
    "logger",
    "nn",
    "np",
    "random",
    "time_masking",
    "time_shift",
    "torch",
]

logger = get_logger("training.advanced_augmentation")


def _mixed_labels(label1: torch.Tensor, label2: torch.Tensor, lam: Any) -> Any:
    width = int(label1.max()) + 1 if label1.dim() == 1 else label1.shape[1]
    return K.mix_labels(label1, label2, lam, width)


def cutmix(signal1: torch.Tensor, signal2: torch.Tensor, label1: torch.Tensor, label2: torch.Tensor,
           alpha: Any = 1.0) -> Any:
    lam = np.random.beta(alpha, alpha)
    length = signal1.shape[-1]
    cut = int(lam * length)
    start = np.random.randint(0, length - cut + 1)
    return K.paste_span(signal1, signal2, start, cut), _mixed_labels(label1, label2, lam)


def cutmix_batch(signals: torch.Tensor, labels: Any, alpha: Any = 1.0, prob: float = 0.5) -> Any:
    if np.random.rand() > prob:
        return signals, labels
    index = torch.randperm(signals.shape[0])
    return cutmix(signals, signals[index], labels, labels[index], alpha)


def adversarial_augmentation(model: Any, signal: torch.Tensor, label: Any, epsilon: float = 0.01,
                             criterion: Any = None) -> Any:
    return fgsm(model, signal, label, epsilon, criterion, restore_mode=False, param_grads=True)


def time_masking(signal: torch.Tensor, mask_param: int = 1000, num_masks: int = 1) -> Any:
    length = signal.shape[-1]
    spans = []
    for _ in range(num_masks):
        mask_len = np.random.randint(0, min(mask_param, length // 4))
        spans.append((np.random.randint(0, length - mask_len + 1), mask_len))
    starts = torch.tensor([s for s, _ in spans], device=signal.device)
    lengths = torch.tensor([n for _, n in spans], device=signal.device)
    return K.zero_where(signal, K.span_mask(length, starts, lengths))


def gaussian_noise_augmentation(signal: torch.Tensor, noise_std: float = 0.01) -> Any:
    return signal + torch.randn_like(signal) * noise_std


def amplitude_scaling(signal: torch.Tensor, scale_range: Any = (0.8, 1.2)) -> Any:
    return signal * np.random.uniform(scale_range[0], scale_range[1])


def time_shift(signal: torch.Tensor, shift_max: int = 1000) -> Any:
    return torch.roll(signal, shifts=int(np.random.randint(-shift_max, shift_max)), dims=-1)


_DEFAULT_POLICY: list[list[tuple[str, float, float]]] = [
    [("gaussian_noise", 0.3, 0.01), ("amplitude_scale", 0.5, 0.1)],
    [("time_shift", 0.5, 500), ("time_mask", 0.3, 1000)],
    [("gaussian_noise", 0.5, 0.02), ("time_shift", 0.5, 1000)],
]


class AutoAugment:
    def __init__(self, policy: Optional[list] = None) -> None:
        self.policy: list[Any] = policy if policy is not None else [list(p) for p in _DEFAULT_POLICY]
        self.operations = {
            "gaussian_noise": self._apply_noise,
            "amplitude_scale": self._apply_scale,
            "time_shift": self._apply_shift,
            "time_mask": self._apply_mask,
        }

    def __call__(self, signal: torch.Tensor) -> torch.Tensor:
        sub_policy = random.choice(self.policy)
        for name, prob, magnitude in sub_policy:
            if random.random() < prob:
                signal = self.operations[name](signal, magnitude)  # unknown name: KeyError, as legacy
        return signal

    def _apply_noise(self, signal: torch.Tensor, magnitude: float) -> torch.Tensor:
        return gaussian_noise_augmentation(signal, noise_std=magnitude)

    def _apply_scale(self, signal: torch.Tensor, magnitude: float) -> torch.Tensor:
        return amplitude_scaling(signal, scale_range=(1.0 - magnitude, 1.0 + magnitude))

    def _apply_shift(self, signal: torch.Tensor, magnitude: float) -> torch.Tensor:
        return time_shift(signal, shift_max=int(magnitude))

    def _apply_mask(self, signal: torch.Tensor, magnitude: float) -> torch.Tensor:
        return time_masking(signal, mask_param=int(magnitude), num_masks=1)


class MixupAugmentation:
    def __init__(self, alpha: Any = 1.0) -> None:
        self.alpha = alpha

    def __call__(self, signal1: torch.Tensor, signal2: torch.Tensor, label1: torch.Tensor, label2: torch.Tensor) -> Any:
        lam = np.random.beta(self.alpha, self.alpha)
        return K.mix(signal1, signal2, lam), _mixed_labels(label1, label2, lam)


class CompositeAugmentation:
    def __init__(self, use_cutmix: bool = True, use_mixup: bool = False, use_autoaugment: bool = True,
                 cutmix_prob: float = 0.5, cutmix_alpha: float = 1.0, mixup_alpha: float = 1.0) -> None:
        self.use_cutmix = use_cutmix
        self.use_mixup = use_mixup
        self.use_autoaugment = use_autoaugment
        self.cutmix_prob = cutmix_prob
        self.cutmix_alpha = cutmix_alpha
        if use_autoaugment:  # legacy built each helper only when it was switched on
            self.autoaugment = AutoAugment()
        if use_mixup:
            self.mixup = MixupAugmentation(alpha=mixup_alpha)

    def __call__(self, signals: torch.Tensor, labels: Any) -> Any:
        if self.use_autoaugment:
            signals = self.autoaugment(signals)
        if self.use_cutmix and random.random() < self.cutmix_prob:
            signals, labels = cutmix_batch(signals, labels, alpha=self.cutmix_alpha, prob=1.0)
        elif self.use_mixup:
            index = torch.randperm(signals.shape[0])
            signals, labels = self.mixup(signals, signals[index], labels, labels[index])
        return signals, labels


def _legacy_main() -> None:
    """``python -m training.advanced_augmentation``: legacy's demo on 4 random signals."""
    print("Testing advanced augmentation techniques...")
    signals = torch.randn(4, 1, 10240)
    labels = torch.randint(0, 11, (4,))
    print(f"\nOriginal shape: {signals.shape}")
    print("\nTesting CutMix...")
    mixed_signals, mixed_labels = cutmix_batch(signals, labels, alpha=1.0, prob=1.0)
    print(f"CutMix output: {mixed_signals.shape}, {mixed_labels.shape}")
    print("\nTesting Time Masking...")
    print(f"Time masking output: {time_masking(signals, mask_param=1000, num_masks=2).shape}")
    print("\nTesting AutoAugment...")
    print(f"AutoAugment output: {AutoAugment()(signals).shape}")
    print("\nTesting Composite Augmentation...")
    aug_signals, aug_labels = CompositeAugmentation()(signals, labels)
    print(f"Composite output: {aug_signals.shape}, {aug_labels.shape}")
    print("\n✓ All augmentation tests passed!")
