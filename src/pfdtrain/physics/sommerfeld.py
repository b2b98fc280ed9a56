"""Sommerfeld consistency: predicted severity should match the lubrication regime implied by
load, speed and viscosity (low S = boundary lubrication = severe)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain.physics.bearing import SKF_6205, BearingGeometry, TensorOrNumber, sommerfeld_number

DEFAULT_LOAD = 500.0
DEFAULT_RPM = 3600.0
DEFAULT_VISCOSITY = 0.03


def expected_severity(
    s: torch.Tensor,
    thresholds: tuple[float, float] = (0.1, 1.0),
    levels: tuple[float, float, float] = (3.0, 1.5, 0.5),
) -> torch.Tensor:
    """``levels[0]`` if ``S < thresholds[0]``, ``levels[1]`` if below ``thresholds[1]``, else ``levels[2]``."""
    return torch.where(s < thresholds[0], levels[0], torch.where(s < thresholds[1], levels[1], levels[2])).to(s.dtype)


class SommerfeldConsistencyLoss(nn.Module):
    """MSE between the predicted severity level and the level expected from the Sommerfeld number.

    ``predicted_severity`` is a level per sample ``[B]`` or scores over levels ``[B, C]``; for the
    latter ``mode='soft'`` (default) uses the expected level ``sum_c softmax_c * c``
    (differentiable) and ``'hard'`` the argmax (no gradient). Missing operating conditions fall
    back to 500 N, 3600 rpm and 0.03 Pa*s.
    """

    def __init__(self, *, mode: Literal["soft", "hard"] = "soft", geometry: BearingGeometry = SKF_6205,
                 thresholds: tuple[float, float] = (0.1, 1.0),
                 levels: tuple[float, float, float] = (3.0, 1.5, 0.5)) -> None:
        super().__init__()
        if mode not in ("soft", "hard"):
            raise ValueError(f"mode must be 'soft' or 'hard', got {mode!r}")
        self._mode = mode
        self._geometry = geometry
        self._thresholds = thresholds
        self._levels = levels

    def level(self, predicted_severity: torch.Tensor) -> torch.Tensor:
        if predicted_severity.dim() == 1:
            return predicted_severity
        if predicted_severity.dim() != 2:
            raise ValueError(
                f"predicted_severity must be [B] levels or [B, C] scores; received {list(predicted_severity.shape)}"
            )
        if self._mode == "hard":
            return predicted_severity.argmax(dim=1).to(predicted_severity.dtype)
        steps = torch.arange(predicted_severity.shape[1], device=predicted_severity.device,
                             dtype=predicted_severity.dtype)
        return F.softmax(predicted_severity, dim=1) @ steps

    def forward(
        self,
        predicted_severity: torch.Tensor,
        load: TensorOrNumber | None = None,
        rpm: TensorOrNumber | None = None,
        viscosity: TensorOrNumber | None = None,
    ) -> torch.Tensor:
        def tensor(value: TensorOrNumber | None, default: float) -> torch.Tensor:
            value = default if value is None else value
            if isinstance(value, torch.Tensor):
                return value
            return torch.tensor(value, dtype=torch.float32)

        s = sommerfeld_number(tensor(load, DEFAULT_LOAD), tensor(rpm, DEFAULT_RPM),
                              tensor(viscosity, DEFAULT_VISCOSITY), self._geometry)
        level = self.level(predicted_severity)
        target = expected_severity(s, self._thresholds, self._levels).to(level.device, level.dtype)
        return F.mse_loss(level, target.expand_as(level))
