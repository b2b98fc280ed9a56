"""Chaining and random application of single-input transforms."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch

from pfdtrain.augment._random import RandomTransform

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

    from pfdtrain.augment._random import RandomOptions


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms: Sequence[Callable[[torch.Tensor], torch.Tensor]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for transform in self.transforms:
            x = transform(x)
        return x


class RandomApply(RandomTransform):
    """Apply ``transform`` to the whole input with probability ``p``."""

    def __init__(
        self, transform: Callable[[torch.Tensor], torch.Tensor], p: float = 0.5, **rng: Unpack[RandomOptions]
    ) -> None:
        super().__init__(**rng)
        self.transform, self.p = transform, p

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.transform(x) if float(self.rand((), "cpu")) < self.p else x
