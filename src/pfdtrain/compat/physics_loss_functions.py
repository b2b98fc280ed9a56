"""Legacy ``training.physics_loss_functions`` on top of :mod:`pfdtrain.physics`.

The core losses are vectorised and handle every class at each sample's own rpm; these adapters
configure them to give the legacy values, quirks included (``docs``: known defects 15-22):

* frequency consistency uses only ``rpm[0]``, the first ``n_fft`` samples, argmax classes (no
  gradient) and divides by ``B * top_k``;
* spectral distance uses the *mean* rpm (tensors only) and adds ``numpy.random.randn`` noise to
  the templates of predicted classes 0 and 6, drawn in sample order;
* a predicted class 8-10 raises ``KeyError('combined_...')`` in both spectral losses;
* ``PhysicalConstraintLoss`` starts its total from the float ``0.0`` (so ``.item()`` fails when no
  term is active), reports python floats and calls the temporal term without ``time_delta``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from pfdtrain import physics as _core
from pfdtrain.compat._legacy_frequency import legacy_frequency_loss
from pfdtrain.physics.constants import FAULT_CLASSES, NOMINAL_RPM, SAMPLING_RATE
from pfdtrain.physics.signatures import FAULT_SIGNATURES, NOISE_LEVELS

__all__ = [
    "SAMPLING_RATE",
    "FrequencyConsistencyLoss",
    "PhysicalConstraintLoss",
    "SommerfeldConsistencyLoss",
    "SpectralDistanceLoss",
    "TemporalSmoothnessLoss",
    "frequency_consistency_loss",
    "sommerfeld_consistency_loss",
    "temporal_smoothness_loss",
]

#: Classes legacy had a signature for; 8-10 (combined faults) raised KeyError.
_LEGACY_CLASSES = 8
#: Legacy template noise ``level * randn * 0.1`` per class (healthy 0.1, wear 0.3).
_NOISE_SCALE = {i: NOISE_LEVELS[s.profile] * 0.1 for i, s in enumerate(FAULT_SIGNATURES) if s.profile in NOISE_LEVELS}


def _first_combined(classes: torch.Tensor) -> int | None:
    """Index of the first sample whose predicted class had no legacy signature."""
    hits = (classes >= _LEGACY_CLASSES).nonzero()
    return int(hits[0, 0]) if hits.numel() else None


class FrequencyConsistencyLoss(_core.FrequencyConsistencyLoss):
    def __init__(self, sample_rate: float = SAMPLING_RATE, n_fft: int = 2048, top_k: int = 5,
                 tolerance: float = 0.1) -> None:
        super().__init__(sample_rate, n_fft, top_k, tolerance, mode="hard", normalize="top_k")

    def forward(self, signal: torch.Tensor, predictions: torch.Tensor, metadata: Any = None) -> torch.Tensor:
        # legacy's float32 value to the last bit (lines, rounding and summation order)
        return legacy_frequency_loss(signal, predictions, metadata, sample_rate=self.sample_rate, n_fft=self.n_fft,
                                     top_k=self.top_k, tolerance=self.tolerance)


class SpectralDistanceLoss(_core.SpectralDistanceLoss):
    def __init__(self, sample_rate=SAMPLING_RATE, n_fft=2048):
        super().__init__(sample_rate, n_fft, mode="hard", top_k=10)

    def forward(self, signal, predictions, metadata=None):
        rpm = NOMINAL_RPM
        if metadata is not None and isinstance(metadata.get("rpm"), torch.Tensor):
            rpm = float(metadata["rpm"].float().mean())
        classes = predictions.argmax(dim=1).tolist()
        n_bins = self.n_fft // 2 + 1
        # Legacy walked the batch in order, drawing len(bins) normals per noisy class and
        # raising at the first combined class: draw the same numbers, in one call.
        stop = next((i for i, c in enumerate(classes) if c >= _LEGACY_CLASSES), len(classes))
        noisy = [i for i in range(stop) if classes[i] in _NOISE_SCALE]
        draws = np.random.randn(len(noisy), n_bins) if noisy else None
        if stop < len(classes):
            raise KeyError(FAULT_CLASSES[classes[stop]])
        noise = None
        if noisy:
            noise = torch.zeros(len(classes), n_bins, dtype=torch.float64)
            scale = torch.tensor([_NOISE_SCALE[classes[i]] for i in noisy], dtype=torch.float64)
            noise[noisy] = scale[:, None] * torch.from_numpy(draws)
            noise = noise.to(signal.device, signal.dtype)
        return super().forward(signal, predictions, rpm, template_noise=noise)


class SommerfeldConsistencyLoss(_core.SommerfeldConsistencyLoss):
    def __init__(self):
        super().__init__(mode="hard")

    def forward(self, predicted_severity, metadata):
        return super().forward(
            predicted_severity, metadata.get("load", 500.0), metadata.get("rpm", 3600.0),
            metadata.get("viscosity", 0.03),
        )


class TemporalSmoothnessLoss(_core.TemporalSmoothnessLoss):
    def __init__(self, smoothness_weight=1.0):
        super().__init__(smoothness_weight)

    def forward(self, predictions_sequence, time_delta=None):
        if predictions_sequence.shape[0] < 2:
            return torch.tensor(0.0)
        return super().forward(predictions_sequence, time_delta)


class PhysicalConstraintLoss(nn.Module):
    def __init__(self, lambda_freq=1.0, lambda_sommerfeld=0.5, lambda_temporal=0.1, sample_rate=SAMPLING_RATE):
        super().__init__()
        self.lambda_freq = lambda_freq
        self.lambda_sommerfeld = lambda_sommerfeld
        self.lambda_temporal = lambda_temporal
        self.freq_loss = FrequencyConsistencyLoss(sample_rate=sample_rate)
        self.sommerfeld_loss = SommerfeldConsistencyLoss()
        self.temporal_loss = TemporalSmoothnessLoss()

    def forward(self, signal, predictions, metadata=None, severity_predictions=None, predictions_sequence=None):
        total = 0.0
        terms = {}
        if self.lambda_freq > 0:
            value = self.freq_loss(signal, predictions, metadata)
            total = total + self.lambda_freq * value
            terms["freq_consistency"] = value.item()
        if self.lambda_sommerfeld > 0 and severity_predictions is not None:
            value = self.sommerfeld_loss(severity_predictions, metadata or {})
            total = total + self.lambda_sommerfeld * value
            terms["sommerfeld_consistency"] = value.item()
        if self.lambda_temporal > 0 and predictions_sequence is not None:
            value = self.temporal_loss(predictions_sequence)
            total = total + self.lambda_temporal * value
            terms["temporal_smoothness"] = value.item()
        terms["total_physics"] = total.item()
        return total, terms


def frequency_consistency_loss(signal, predictions, metadata=None, sample_rate=SAMPLING_RATE):
    return FrequencyConsistencyLoss(sample_rate=sample_rate)(signal, predictions, metadata)


def sommerfeld_consistency_loss(predicted_severity, metadata):
    return SommerfeldConsistencyLoss()(predicted_severity, metadata)


def temporal_smoothness_loss(predictions_sequence):
    return TemporalSmoothnessLoss()(predictions_sequence)
