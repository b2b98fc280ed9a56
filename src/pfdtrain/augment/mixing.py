"""Batch-level mixing augmentations returning soft labels of a fixed width ``num_classes``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from pfdtrain.augment import functional as K
from pfdtrain.augment._random import RandomDraws

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

    from pfdtrain.augment._random import RandomOptions


class _Mixing(RandomDraws):
    """Two inputs (a batch and its labels) in, two out: not a single-input RandomTransform."""

    def __init__(self, num_classes: int, alpha: float = 1.0, p: float = 1.0, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        self.num_classes, self.alpha, self.p = num_classes, alpha, p

    def __call__(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch [B, ...], labels [B] or [B, K]) -> (mixed batch, soft labels [B, K])``."""
        if labels.shape[0] != x.shape[0]:
            raise ValueError(f"{type(self).__name__} needs one label per sample; received x {list(x.shape)} "
                             f"and labels {list(labels.shape)}")
        if self.p < 1 and float(self.rand((), "cpu")) >= self.p:
            return x, K.soft_labels(labels, self.num_classes)
        partner = self.randperm(x.shape[0], x.device)
        lam = self.beta(self.alpha) if self.alpha > 0 else 1.0
        return self.combine(x, x[partner], labels, labels[partner], lam)

    def combine(
        self, x: torch.Tensor, other: torch.Tensor, labels: torch.Tensor, other_labels: torch.Tensor, lam: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


class Mixup(_Mixing):
    """``lam * x + (1 - lam) * x[perm]`` with ``lam ~ Beta(alpha, alpha)``, labels likewise
    (Zhang et al. 2018). Works on signals, spectrograms and patch sequences alike."""

    def combine(
        self, x: torch.Tensor, other: torch.Tensor, labels: torch.Tensor, other_labels: torch.Tensor, lam: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return K.mix(x, other, lam), K.mix_labels(labels, other_labels, lam, self.num_classes)


class CutMix(_Mixing):
    """Paste a span of ``int(lam * T)`` samples (last axis) from a partner; the labels are
    weighted by the share actually pasted (Yun et al. 2019)."""

    def combine(
        self, x: torch.Tensor, other: torch.Tensor, labels: torch.Tensor, other_labels: torch.Tensor, lam: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        size = x.shape[-1]
        cut = int(lam * size)
        start = int(self.randint(0, size - cut + 1, (), "cpu"))
        pasted = cut / size
        return K.paste_span(x, other, start, cut), K.mix_labels(labels, other_labels, 1 - pasted, self.num_classes)
