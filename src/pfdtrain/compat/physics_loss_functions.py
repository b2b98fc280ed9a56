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

import os
import sys
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain import physics as _core
from pfdtrain.compat._legacy_frequency import legacy_frequency_loss
from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, Dict, Optional, Tuple, get_logger
from pfdtrain.compat._legacy_physics import BearingDynamics, FaultSignatureDatabase
from pfdtrain.physics.constants import FAULT_CLASSES, NOMINAL_RPM, SAMPLING_RATE
from pfdtrain.physics.signatures import FAULT_SIGNATURES, NOISE_LEVELS

__all__ = [
    # module-level names of the legacy module (served as training.physics_loss_functions.<name>)
    "NUM_CLASSES",
    "SAMPLING_RATE",
    "SIGNAL_LENGTH",
    "BearingDynamics",
    "Dict",
    "F",
    "FaultSignatureDatabase",
    "FrequencyConsistencyLoss",
    "Optional",
    "PhysicalConstraintLoss",
    "SommerfeldConsistencyLoss",
    "SpectralDistanceLoss",
    "TemporalSmoothnessLoss",
    "Tuple",
    "frequency_consistency_loss",
    "logger",
    "nn",
    "np",
    "os",
    "sommerfeld_consistency_loss",
    "sys",
    "temporal_smoothness_loss",
    "torch",
]

logger = get_logger("training.physics_loss_functions")

#: Classes legacy had a signature for; 8-10 (combined faults) raised KeyError.
_LEGACY_CLASSES = 8
#: Legacy template noise ``level * randn * 0.1`` per class (healthy 0.1, wear 0.3).
_NOISE_SCALE = {i: NOISE_LEVELS[s.profile] * 0.1 for i, s in enumerate(FAULT_SIGNATURES) if s.profile in NOISE_LEVELS}


def _first_combined(classes: torch.Tensor) -> int | None:
    """Index of the first sample whose predicted class had no legacy signature."""
    hits = (classes >= _LEGACY_CLASSES).nonzero()
    return int(hits[0, 0]) if hits.numel() else None


class FrequencyConsistencyLoss(_core.FrequencyConsistencyLoss):
    def __init__(self, sample_rate: Any = SAMPLING_RATE, n_fft: int = 2048, top_k: int = 5,
                 tolerance: float = 0.1) -> None:
        super().__init__(sample_rate, n_fft, top_k, tolerance, mode="hard", normalize="top_k")
        self.signature_db = FaultSignatureDatabase()
        self.bearing_dynamics = BearingDynamics()

    def forward(self, signal: torch.Tensor, predictions: torch.Tensor, metadata: Any = None) -> torch.Tensor:
        # legacy's float32 value to the last bit (lines, rounding and summation order)
        return legacy_frequency_loss(signal, predictions, metadata, sample_rate=self.sample_rate, n_fft=self.n_fft,
                                     top_k=self.top_k, tolerance=self.tolerance)


class SpectralDistanceLoss(_core.SpectralDistanceLoss):
    def __init__(self, sample_rate: Any = SAMPLING_RATE, n_fft: int = 2048) -> None:
        super().__init__(sample_rate, n_fft, mode="hard", top_k=10)
        self.signature_db = FaultSignatureDatabase()

    def forward(self, signal: torch.Tensor, predictions: torch.Tensor, metadata: Any = None) -> Any:  # type: ignore[override]  # legacy signature
        rpm = NOMINAL_RPM
        if metadata is not None and isinstance(metadata.get("rpm"), torch.Tensor):
            rpm = float(metadata["rpm"].float().mean())
        classes = predictions.argmax(dim=1).tolist()
        n_bins = int(self.n_fft or 0) // 2 + 1  # n_fft is always set here (2048 by default)
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
    def __init__(self) -> None:
        super().__init__(mode="hard")
        self.bearing_dynamics = BearingDynamics()

    def forward(self, predicted_severity: torch.Tensor, metadata: Any) -> Any:  # type: ignore[override]  # legacy signature
        return super().forward(
            predicted_severity, metadata.get("load", 500.0), metadata.get("rpm", 3600.0),
            metadata.get("viscosity", 0.03),
        )


class TemporalSmoothnessLoss(_core.TemporalSmoothnessLoss):
    def __init__(self, smoothness_weight: float = 1.0) -> None:
        super().__init__(smoothness_weight)

    def forward(self, predictions_sequence: torch.Tensor, time_delta: Any = None) -> Any:
        if predictions_sequence.shape[0] < 2:
            return torch.tensor(0.0)
        return super().forward(predictions_sequence, time_delta)


class PhysicalConstraintLoss(nn.Module):
    def __init__(self, lambda_freq: float = 1.0, lambda_sommerfeld: float = 0.5, lambda_temporal: float = 0.1,
                 sample_rate: Any = SAMPLING_RATE) -> None:
        super().__init__()
        self.lambda_freq = lambda_freq
        self.lambda_sommerfeld = lambda_sommerfeld
        self.lambda_temporal = lambda_temporal
        self.freq_loss = FrequencyConsistencyLoss(sample_rate=sample_rate)
        self.sommerfeld_loss = SommerfeldConsistencyLoss()
        self.temporal_loss = TemporalSmoothnessLoss()

    def forward(self, signal: torch.Tensor, predictions: torch.Tensor, metadata: Any = None,
                severity_predictions: Any = None, predictions_sequence: torch.Tensor | None = None) -> Any:
        total: Any = 0.0  # a float while no term is active: .item() fails then, as legacy did
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


def frequency_consistency_loss(signal: torch.Tensor, predictions: torch.Tensor, metadata: Any = None,
                               sample_rate: Any = SAMPLING_RATE) -> Any:
    return FrequencyConsistencyLoss(sample_rate=sample_rate)(signal, predictions, metadata)


def sommerfeld_consistency_loss(predicted_severity: torch.Tensor, metadata: Any) -> Any:
    return SommerfeldConsistencyLoss()(predicted_severity, metadata)


def temporal_smoothness_loss(predictions_sequence: torch.Tensor) -> Any:
    return TemporalSmoothnessLoss()(predictions_sequence)


def _legacy_main() -> None:
    """``python -m training.physics_loss_functions``: legacy's check of each loss on random data."""
    print("=" * 60)
    print("Physics Loss Functions - Validation")
    print("=" * 60)
    batch_size, signal_length, num_classes = 4, 10240, NUM_CLASSES
    signal = torch.randn(batch_size, 1, signal_length)
    predictions = torch.randn(batch_size, num_classes)
    metadata = {
        "rpm": torch.tensor([3600.0] * batch_size),
        "load": torch.tensor([500.0] * batch_size),
        "viscosity": torch.tensor([0.03] * batch_size),
    }
    print("\nTesting Frequency Consistency Loss:")
    freq_loss = FrequencyConsistencyLoss(sample_rate=20480, n_fft=2048)(signal, predictions, metadata)
    print(f"   Loss value: {freq_loss.item():.4f}")
    print("\nTesting Sommerfeld Consistency Loss:")
    severity_preds = torch.randn(batch_size, 4)
    print(f"   Loss value: {SommerfeldConsistencyLoss()(severity_preds, metadata).item():.4f}")
    print("\nTesting Temporal Smoothness Loss:")
    pred_sequence = torch.randn(10, batch_size, num_classes)
    print(f"   Loss value: {TemporalSmoothnessLoss()(pred_sequence).item():.4f}")
    print("\nTesting Combined Physics Loss:")
    combined = PhysicalConstraintLoss(lambda_freq=1.0, lambda_sommerfeld=0.5, lambda_temporal=0.1)
    total_loss, loss_dict = combined(signal, predictions, metadata, severity_predictions=severity_preds,
                                     predictions_sequence=pred_sequence)
    print(f"   Total loss: {total_loss.item():.4f}")
    print(f"   Loss components: {loss_dict}")
    print("\n" + "=" * 60)
    print("Validation Complete!")
    print("=" * 60)
