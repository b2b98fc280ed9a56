"""Weighted sum of the physics terms, with each computed term reported (no host sync)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
from torch import nn

from pfdtrain.physics.constants import SAMPLING_RATE
from pfdtrain.physics.frequency import FrequencyConsistencyLoss
from pfdtrain.physics.sommerfeld import SommerfeldConsistencyLoss
from pfdtrain.physics.temporal import TemporalSmoothnessLoss


class PhysicalConstraintLoss(nn.Module):
    """``lambda_freq * freq + lambda_sommerfeld * sommerfeld + lambda_temporal * temporal``.

    A term is computed when its weight is > 0 and its inputs are given. ``metadata`` may hold
    ``rpm`` (per sample or shared), ``load`` and ``viscosity``. Returns the total (a tensor even
    when no term is active) and ``{term: detached value, ..., 'total_physics': ...}``.
    """

    def __init__(
        self,
        lambda_freq: float = 1.0,
        lambda_sommerfeld: float = 0.5,
        lambda_temporal: float = 0.1,
        sample_rate: float = SAMPLING_RATE,
        *,
        n_fft: int | None = None,
        mode: Literal["soft", "hard"] = "soft",
    ) -> None:
        super().__init__()
        self.lambda_freq = lambda_freq
        self.lambda_sommerfeld = lambda_sommerfeld
        self.lambda_temporal = lambda_temporal
        self.frequency = FrequencyConsistencyLoss(sample_rate, n_fft, mode=mode)
        self.sommerfeld = SommerfeldConsistencyLoss(mode=mode)
        self.temporal = TemporalSmoothnessLoss()

    def forward(
        self,
        signal: torch.Tensor,
        predictions: torch.Tensor,
        metadata: Mapping[str, Any] | None = None,
        severity_predictions: torch.Tensor | None = None,
        predictions_sequence: torch.Tensor | None = None,
        time_delta: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        metadata = metadata or {}
        total = predictions.new_zeros(())
        terms: dict[str, torch.Tensor] = {}
        if self.lambda_freq > 0:
            terms["freq_consistency"] = value = self.frequency(signal, predictions, metadata.get("rpm"))
            total = total + self.lambda_freq * value
        if self.lambda_sommerfeld > 0 and severity_predictions is not None:
            terms["sommerfeld_consistency"] = value = self.sommerfeld(
                severity_predictions, metadata.get("load"), metadata.get("rpm"), metadata.get("viscosity"))
            total = total + self.lambda_sommerfeld * value
        if self.lambda_temporal > 0 and predictions_sequence is not None:
            terms["temporal_smoothness"] = value = self.temporal(predictions_sequence, time_delta)
            total = total + self.lambda_temporal * value
        terms = {k: v.detach() for k, v in terms.items()}
        terms["total_physics"] = total.detach()
        return total, terms
