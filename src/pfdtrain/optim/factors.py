"""Learning-rate multipliers as pure functions and as picklable callables.

The callables hold only plain numbers, so ``LambdaLR(optimizer, WarmupCosine(...))`` has a
plain-data ``state_dict`` (torch saves a callable object's ``__dict__``, never a lambda).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def warmup_cosine_factor(step: int, warmup: int, total: int, min_ratio: float = 0.0, clamp: bool = True) -> float:
    """``(step+1)/warmup`` during warm-up, then a cosine from 1 to ``min_ratio`` at ``total``.

    ``clamp=False`` lets the cosine rise again after ``total`` and divides by ``total - warmup``
    even when it is 0 (legacy behaviour).
    """
    if step < warmup:
        return (step + 1) / warmup
    if clamp and step >= total:
        return min_ratio
    progress = (step - warmup) / (total - warmup)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def warmup_linear_factor(step: int, warmup: int, total: int, min_ratio: float = 0.0) -> float:
    """``(step+1)/warmup`` during warm-up, then linear decay to ``min_ratio`` at ``total`` (held)."""
    if step < warmup:
        return (step + 1) / warmup
    return max(min_ratio, 1 - (step - warmup) / (total - warmup) * (1 - min_ratio))


def noam_factor(step: int, d_model: int, warmup: int, scale: float = 1.0) -> float:
    """Transformer schedule ``scale * d^-0.5 * min(s^-0.5, s * warmup^-1.5)``, ``s = max(1, step)``."""
    s = max(1, step)
    return scale * d_model**-0.5 * min(s**-0.5, s * warmup**-1.5)


@dataclass
class WarmupCosine:
    warmup: int
    total: int
    min_ratio: float = 0.0
    clamp: bool = True

    def __call__(self, step: int) -> float:
        return warmup_cosine_factor(step, self.warmup, self.total, self.min_ratio, self.clamp)


@dataclass
class WarmupLinear:
    warmup: int
    total: int
    min_ratio: float = 0.0

    def __call__(self, step: int) -> float:
        return warmup_linear_factor(step, self.warmup, self.total, self.min_ratio)


@dataclass
class Noam:
    d_model: int
    warmup: int = 4000
    scale: float = 1.0

    def __call__(self, step: int) -> float:
        return noam_factor(step, self.d_model, self.warmup, self.scale)
