"""Signal augmentations for ``[C, T]`` samples or ``[B, C, T]`` batches (each sample drawn apart)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from pfdtrain.augment import functional as K
from pfdtrain.augment._random import RandomTransform, per_sample

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

    from pfdtrain.augment._random import RandomOptions


class GaussianNoise(RandomTransform):
    """``x + std * N(0, 1)``."""

    def __init__(self, std: float = 0.01, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        self.std = std

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.std * self.randn(x.shape, x.device, x.dtype)


class AmplitudeScale(RandomTransform):
    """Multiply each sample by a factor drawn uniformly from ``[low, high)``."""

    def __init__(self, low: float = 0.8, high: float = 1.2, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        self.low, self.high = low, high

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.low + (self.high - self.low) * self.rand(x.shape[0], x.device)
        return x * per_sample(scale, x)


class TimeShift(RandomTransform):
    """Shift each sample by an integer in ``[-max_shift, max_shift]`` (wrap around or zero-fill)."""

    def __init__(self, max_shift: int = 1000, circular: bool = True, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        self.max_shift, self.circular = max_shift, circular

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        shifts = self.randint(-self.max_shift, self.max_shift + 1, x.shape[0], x.device)
        return K.roll_samples(x, shifts, dim=x.dim() - 1, circular=self.circular)


class TimeMask(RandomTransform):
    """Zero ``num_masks`` spans per sample, each of length uniform in ``[0, max_length]``."""

    def __init__(self, max_length: int = 1000, num_masks: int = 1, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        self.max_length, self.num_masks = max_length, num_masks

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-1]
        shape = (x.shape[0], self.num_masks)
        lengths = self.randint(0, min(self.max_length, size) + 1, shape, x.device)
        starts = self.randint(0, size - lengths + 1, shape, x.device)
        mask = K.span_mask(size, starts, lengths)  # [B, T]
        return K.zero_where(x, mask.view(x.shape[0], *([1] * (x.dim() - 2)), size))
