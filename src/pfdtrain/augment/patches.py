"""Augmentations for patch sequences: ``[N, D]`` samples or ``[B, N, D]`` batches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from pfdtrain.augment import functional as K
from pfdtrain.augment._random import RandomTransform

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

    from pfdtrain.augment._random import RandomOptions


class PatchDropout(RandomTransform):
    """Drop whole patches with probability ``p`` and rescale the kept ones by ``1 / (1 - p)``."""

    def __init__(self, p: float = 0.1, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        if not 0 <= p <= 1:
            raise ValueError(f"p must be in [0, 1], got {p}")
        self.p = p

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0:
            return x.clone()
        if self.p == 1:
            return torch.zeros_like(x)
        keep = (self.rand((x.shape[0], x.shape[1], 1), x.device) >= self.p).to(x.dtype)
        return K.keep_mask_scale(x, keep, 1 - self.p)


class PatchShift(RandomTransform):
    """Shift each sequence by an integer in ``[-max_shift, max_shift]`` patches."""

    def __init__(self, max_shift: int = 3, circular: bool = True, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        self.max_shift, self.circular = max_shift, circular

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        shifts = self.randint(-self.max_shift, self.max_shift + 1, x.shape[0], x.device)
        return K.roll_samples(x, shifts, dim=1, circular=self.circular)


class PatchCutout(RandomTransform):
    """Zero ``n_holes`` runs of ``hole_size`` patches per sample (any position, the last included)."""

    def __init__(self, n_holes: int = 5, hole_size: int = 3, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        self.n_holes, self.hole_size = n_holes, hole_size

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[1]
        starts = self.randint(0, max(1, n - self.hole_size + 1), (x.shape[0], self.n_holes), x.device)
        return K.zero_where(x, K.span_mask(n, starts, self.hole_size).unsqueeze(-1))


class PatchPermutation(RandomTransform):
    """Swap ``int(N * p / 2)`` disjoint pairs of patches in each sample."""

    def __init__(self, p: float = 0.05, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        self.p = p

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        b, n = x.shape[:2]
        swaps = int(n * self.p / 2)
        if swaps == 0:
            return x.clone()
        chosen = self.rand((b, n), x.device).argsort(dim=1)[:, : 2 * swaps]
        first, second = chosen[:, :swaps], chosen[:, swaps:]
        order = torch.arange(n, device=x.device).repeat(b, 1)
        order.scatter_(1, first, second)
        order.scatter_(1, second, first)
        return K.permute_within_samples(x, order, dim=1)


class PatchJitter(RandomTransform):
    """``x + std * N(0, 1)``."""

    def __init__(self, std: float = 0.01, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        self.std = std

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.std * self.randn(x.shape, x.device, x.dtype)
