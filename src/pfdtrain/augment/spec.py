"""SpecAugment (Park et al. 2019) frequency and time masking for spectrograms ``[B, C, H, W]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from pfdtrain.augment import functional as K
from pfdtrain.augment._random import RandomTransform

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

    from pfdtrain.augment._random import RandomOptions


class SpecAugment(RandomTransform):
    """Per sample: ``num_freq_masks`` bands of ``0..freq_mask_param`` rows (``H``) and
    ``num_time_masks`` bands of ``0..time_mask_param`` columns (``W``) set to zero, the same for
    every channel; all samples of a batch are masked in one vectorised pass.
    """

    sample_ndim = 3

    def __init__(self, time_mask_param: int = 40, freq_mask_param: int = 20, num_time_masks: int = 2,
                 num_freq_masks: int = 2, **rng: Unpack[RandomOptions]) -> None:
        super().__init__(**rng)
        self.time_mask_param, self.freq_mask_param = time_mask_param, freq_mask_param
        self.num_time_masks, self.num_freq_masks = num_time_masks, num_freq_masks

    def _bands(self, batch: int, size: int, param: int, count: int, device: torch.device) -> torch.Tensor:
        widths = self.randint(0, param + 1, (batch, count), device)
        starts = self.randint(0, (size - widths).clamp_min(1), (batch, count), device)
        return K.span_mask(size, starts, widths)  # [B, size]

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"SpecAugment expects [C, H, W] or [B, C, H, W]; received {list(x.shape)}")
        b, _, h, w = x.shape
        rows = self._bands(b, h, self.freq_mask_param, self.num_freq_masks, x.device)
        cols = self._bands(b, w, self.time_mask_param, self.num_time_masks, x.device)
        return K.zero_where(x, rows[:, None, :, None] | cols[:, None, None, :])
