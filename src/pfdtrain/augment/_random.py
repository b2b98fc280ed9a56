"""Random draws from a ``torch.Generator`` that the transform is given or owns.

An owned generator is created lazily in the process (and DataLoader worker) that uses it, seeded
from ``seed`` (or ``torch.initial_seed()``) mixed with the worker id, so workers never repeat
each other's augmentations and nothing reads or advances the global RNG streams.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, TypedDict

import numpy as np
import torch

#: A tensor shape: one size or a sequence of sizes.
Shape = int | Sequence[int]
Device = torch.device | str


class RandomOptions(TypedDict, total=False):
    """The keyword arguments every random transform takes (``**rng``)."""

    generator: torch.Generator | None
    seed: int | None


class RandomDraws:
    """Base class of everything random here: the generator and the draws made from it."""

    def __init__(self, *, generator: torch.Generator | None = None, seed: int | None = None) -> None:
        self._generator = generator
        self._seed = seed
        self._owned: torch.Generator | None = None
        self._owner: tuple[int, int | None] | None = None

    @property
    def generator(self) -> torch.Generator:
        if self._generator is not None:
            return self._generator
        info = torch.utils.data.get_worker_info()
        owner = (os.getpid(), None if info is None else info.id)
        if self._owned is None or self._owner != owner:
            base = self._seed if self._seed is not None else torch.initial_seed()
            seed = base if info is None else base * 1_000_003 + info.id + 1
            self._owned = torch.Generator().manual_seed(seed % (2**63))
            self._owner = owner
        return self._owned

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_owned"] = state["_owner"] = None  # re-created in the receiving process
        return state

    # -- draws (made on the generator's device, returned on ``device``)

    def rand(self, shape: Shape, device: Device) -> torch.Tensor:
        g = self.generator
        return torch.rand(_size(shape), generator=g, device=g.device).to(device)

    def randn(self, shape: Shape, device: Device, dtype: torch.dtype | None = None) -> torch.Tensor:
        g = self.generator
        return torch.randn(_size(shape), generator=g, device=g.device, dtype=dtype).to(device)

    def randint(self, low: int, high: torch.Tensor | int, shape: Shape, device: Device) -> torch.Tensor:
        """Uniform integers in ``[low, high)``; ``high`` may be a tensor (per element)."""
        return (low + (self.rand(shape, device) * (high - low)).floor()).to(torch.int64)

    def randperm(self, n: int, device: Device) -> torch.Tensor:
        g = self.generator
        return torch.randperm(n, generator=g, device=g.device).to(device)

    def beta(self, alpha: float) -> float:
        """One ``Beta(alpha, alpha)`` draw (numpy's sampler seeded from the torch generator)."""
        seed = int(torch.randint(0, 2**62, (1,), generator=self.generator, device=self.generator.device))
        return float(np.random.default_rng(seed).beta(alpha, alpha))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class RandomTransform(RandomDraws):
    """Base class of single-input transforms: ``__call__`` accepts one sample or a batch;
    subclasses implement ``apply`` on a batch."""

    #: Number of dimensions of one sample (``[C, T]`` signals -> 2); one more means a batch.
    sample_ndim = 2

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() > self.sample_ndim:
            return self.apply(x)
        return self.apply(x.unsqueeze(0)).squeeze(0)

    def apply(self, batch: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def _size(shape: Shape) -> tuple[int, ...]:
    return tuple(shape) if isinstance(shape, Sequence) else (shape,)


def per_sample(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Reshape ``[B]`` values to broadcast over ``like`` ``[B, ...]``."""
    return values.view(-1, *([1] * (like.dim() - 1))).to(like.dtype)
