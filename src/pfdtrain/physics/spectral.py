"""Spectral distance: the normalised spectrum should resemble the predicted fault's template
(Gaussian bumps of width ``0.05 f`` at the class lines), computed for the whole batch at once."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain.physics._spectrum import TableCache, as_batch_signal, lines_for, magnitude, shaft_hz
from pfdtrain.physics.bearing import SKF_6205, BearingGeometry
from pfdtrain.physics.constants import NOMINAL_RPM, SAMPLING_RATE


class SpectralDistanceLoss(nn.Module):
    """MSE between ``|rfft| / max`` and the class template ``/ max`` (each ``+1e-6``).

    ``mode='soft'`` (default) weights the per-class distances by ``softmax(predictions)``
    (differentiable w.r.t. signal and predictions); ``'hard'`` uses the argmax class (w.r.t. the
    signal only). ``template_noise`` (``[B, F]``, hard mode) is added to each template before
    normalisation; legacy used it to inject random noise for some classes.
    """

    def __init__(
        self,
        sample_rate: float = SAMPLING_RATE,
        n_fft: int | None = None,
        *,
        mode: Literal["soft", "hard"] = "soft",
        top_k: int = 10,
        width: float = 0.05,
        geometry: BearingGeometry = SKF_6205,
        default_rpm: float = NOMINAL_RPM,
    ) -> None:
        super().__init__()
        if mode not in ("soft", "hard"):
            raise ValueError(f"mode must be 'soft' or 'hard', got {mode!r}")
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self._mode = mode
        self._top_k = top_k
        self._width = width
        self._geometry = geometry
        self._default_rpm = default_rpm
        self._tables = TableCache()

    def templates(self, lines: torch.Tensor, valid: torch.Tensor, amplitude: torch.Tensor,
                  bins: torch.Tensor) -> torch.Tensor:
        """``sum_m a_m exp(-(bins - f_m)^2 / (2 (width f_m)^2))`` over the last line axis -> ``[..., F]``."""
        out = bins.new_zeros(lines.shape[:-1] + bins.shape)
        safe = torch.where(valid, lines, torch.ones_like(lines))
        weight = amplitude * valid
        for m in range(lines.shape[-1]):  # a handful of lines: bounds memory to [..., F]
            f = safe[..., m, None]
            out = out + weight[..., m, None] * torch.exp(-((bins - f) ** 2) / (2 * (self._width * f) ** 2))
        return out

    def forward(
        self,
        signal: torch.Tensor,
        predictions: torch.Tensor,
        rpm: torch.Tensor | float | None = None,
        template_noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        x = as_batch_signal(signal, predictions, type(self).__name__)
        mag, n = magnitude(x, self.n_fft)
        observed = mag / (mag.amax(-1, keepdim=True) + 1e-6)
        bins = torch.arange(mag.shape[-1], device=x.device, dtype=x.dtype) * (self.sample_rate / n)
        table = self._tables.get(self._top_k, self._geometry, x)
        lines, valid = lines_for(table, shaft_hz(rpm, self._default_rpm, x.shape[0], x), predictions.shape[1])
        amplitude = table.amplitude[: predictions.shape[1]]
        if self._mode == "hard":
            classes = predictions.detach().argmax(1)
            lines = lines.expand(x.shape[0], *lines.shape[-2:])[torch.arange(x.shape[0]), classes]
            valid = valid.expand(x.shape[0], *valid.shape[-2:])[torch.arange(x.shape[0]), classes]
            expected = self.templates(lines, valid, amplitude[classes], bins)  # [B, F]
            if template_noise is not None:
                expected = expected + template_noise
            expected = expected / (expected.amax(-1, keepdim=True) + 1e-6)
            return ((observed - expected) ** 2).mean()
        if template_noise is not None:
            raise ValueError("template_noise is only supported with mode='hard'")
        expected = self.templates(lines, valid, amplitude, bins)  # [B|1, K, F]
        expected = expected / (expected.amax(-1, keepdim=True) + 1e-6)
        per_class = ((observed[:, None, :] - expected) ** 2).mean(-1)  # [B, K]
        return (F.softmax(predictions, dim=1) * per_class).sum(1).mean()
