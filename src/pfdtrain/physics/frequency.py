"""Frequency consistency: the predicted fault's characteristic lines should appear among the
strongest peaks of the signal's spectrum.

One ``rfft`` and one ``topk`` for the whole batch; every class is scored for every sample at
that sample's own rpm (``[B, K, M, P]`` distances, tiny next to the FFT), so the loss costs about
as much as the spectrum itself.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain.physics._spectrum import TableCache, as_batch_signal, lines_for, power, shaft_hz
from pfdtrain.physics.bearing import SKF_6205, BearingGeometry
from pfdtrain.physics.constants import NOMINAL_RPM, SAMPLING_RATE

Mode = Literal["soft", "hard"]
Normalize = Literal["per_line", "top_k"]


class FrequencyConsistencyLoss(nn.Module):
    """Penalty ``relu(min_peak |peak - f| / f - tolerance)`` for each expected line ``f``.

    Peaks are the ``2 * top_k`` largest bins of ``|rfft(signal, n_fft)|`` (DC included); lines are
    the first ``top_k`` lines of a class (:mod:`pfdtrain.physics.signatures`), all 11 classes.

    * ``mode='soft'`` (default, for training): the class penalties are weighted by
      ``softmax(predictions)``, so the loss is differentiable w.r.t. the predictions. Peak
      positions come from the data and carry no learnable parameters.
    * ``mode='hard'``: the penalty of the argmax class only; no gradient.
    * ``normalize='per_line'`` averages a class penalty over its own lines; ``'top_k'`` divides by
      ``top_k`` whatever the number of lines (legacy, under-weights classes with fewer lines).
    * ``n_fft=None`` transforms the whole signal; an integer crops or zero-pads to it.
    """

    def __init__(
        self,
        sample_rate: float = SAMPLING_RATE,
        n_fft: int | None = None,
        top_k: int = 5,
        tolerance: float = 0.1,
        *,
        mode: Mode = "soft",
        normalize: Normalize = "per_line",
        geometry: BearingGeometry = SKF_6205,
        default_rpm: float = NOMINAL_RPM,
    ) -> None:
        super().__init__()
        if mode not in ("soft", "hard"):
            raise ValueError(f"mode must be 'soft' or 'hard', got {mode!r}")
        if normalize not in ("per_line", "top_k"):
            raise ValueError(f"normalize must be 'per_line' or 'top_k', got {normalize!r}")
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.top_k = top_k
        self.tolerance = tolerance
        self._mode = mode
        self._normalize = normalize
        self._geometry = geometry
        self._default_rpm = default_rpm
        self._tables = TableCache()

    @property
    def mode(self) -> str:
        return self._mode

    def class_penalties(
        self, signal: torch.Tensor, predictions: torch.Tensor, rpm: torch.Tensor | float | None = None
    ) -> torch.Tensor:
        """``[B, K]``: the penalty each sample would get if it were predicted as class ``k``."""
        x = as_batch_signal(signal, predictions, type(self).__name__)
        spectrum, n = power(x, self.n_fft)  # peaks of |X|^2 are the peaks of |X|
        n_peaks = min(2 * self.top_k, spectrum.shape[-1])
        peaks = spectrum.topk(n_peaks, dim=-1).indices.to(x.dtype) * (self.sample_rate / n)  # [B, P] Hz
        table = self._tables.get(self.top_k, self._geometry, x)
        lines, valid = lines_for(table, shaft_hz(rpm, self._default_rpm, x.shape[0], x), predictions.shape[1])
        distance = (lines.unsqueeze(-1) - peaks[:, None, None, :]).abs().amin(-1)  # [B, K, M]
        penalty = (torch.relu(distance / (lines + 1e-6) - self.tolerance) * valid).sum(-1)
        if self._normalize == "top_k":
            return penalty / self.top_k
        return penalty / valid.sum(-1).clamp_min(1)

    def forward(
        self, signal: torch.Tensor, predictions: torch.Tensor, rpm: torch.Tensor | float | None = None
    ) -> torch.Tensor:
        """Mean penalty over the batch; ``rpm`` is a number or one value per sample (default 3600)."""
        penalties = self.class_penalties(signal, predictions, rpm)
        if self._mode == "hard":
            return penalties.gather(1, predictions.detach().argmax(1, keepdim=True)).mean()
        return (F.softmax(predictions, dim=1) * penalties).sum(1).mean()
