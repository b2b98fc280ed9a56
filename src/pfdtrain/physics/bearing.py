"""Rolling-bearing geometry, its characteristic fault frequencies and the Sommerfeld number.

Defaults describe the SKF 6205 deep-groove ball bearing used by the test rig.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias, overload

import torch

Number: TypeAlias = float | int
TensorOrNumber: TypeAlias = torch.Tensor | float | int


@dataclass(frozen=True)
class BearingGeometry:
    """Lengths in metres, angle in degrees."""

    n_balls: int = 9
    ball_diameter: float = 7.94e-3
    pitch_diameter: float = 39.04e-3
    contact_angle: float = 0.0
    shaft_radius: float = 15e-3
    radial_clearance: float = 20e-6
    length: float = 0.015

    @property
    def diameter_ratio(self) -> float:
        """``r = d_b / d_p * cos(beta)`` (0.203381 for the defaults)."""
        return self.ball_diameter / self.pitch_diameter * math.cos(math.radians(self.contact_angle))

    def frequency_multipliers(self) -> dict[str, float]:
        """Each characteristic frequency as a multiple of the shaft frequency ``f_s = rpm / 60``.

        All of them scale linearly with shaft speed, which is what lets the physics losses
        evaluate every class for every sample's own rpm in one tensor expression.
        """
        r = self.diameter_ratio
        return {
            "shaft": 1.0,
            "FTF": 0.5 * (1 - r),
            "BPFO": self.n_balls / 2 * (1 - r),
            "BPFI": self.n_balls / 2 * (1 + r),
            "BSF": self.pitch_diameter / (2 * self.ball_diameter) * (1 - r * r),
        }

    def fault_frequencies(self, rpm: TensorOrNumber) -> dict[str, TensorOrNumber]:
        """Shaft, FTF, BPFO, BPFI and BSF in Hz for ``rpm`` (a number or a tensor of any shape).

        At 3600 rpm: 60, 23.8986, 215.0871, 324.9129 and 141.4049 Hz.
        """
        shaft = rpm / 60.0
        return {name: shaft * m for name, m in self.frequency_multipliers().items()}


SKF_6205 = BearingGeometry()


def _check_positive(name: str, value: TensorOrNumber) -> None:
    if isinstance(value, torch.Tensor):
        if bool((value <= 0).any()):
            raise ValueError(f"{name} must be positive (found non-positive values)")
    elif value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")


@overload
def sommerfeld_number(
    load: torch.Tensor, rpm: TensorOrNumber, viscosity: TensorOrNumber, geometry: BearingGeometry = ...
) -> torch.Tensor: ...
@overload
def sommerfeld_number(
    load: TensorOrNumber, rpm: torch.Tensor, viscosity: TensorOrNumber, geometry: BearingGeometry = ...
) -> torch.Tensor: ...
@overload
def sommerfeld_number(
    load: TensorOrNumber, rpm: TensorOrNumber, viscosity: torch.Tensor, geometry: BearingGeometry = ...
) -> torch.Tensor: ...
@overload
def sommerfeld_number(load: Number, rpm: Number, viscosity: Number, geometry: BearingGeometry = ...) -> float: ...


def sommerfeld_number(
    load: TensorOrNumber,
    rpm: TensorOrNumber,
    viscosity: TensorOrNumber,
    geometry: BearingGeometry = SKF_6205,
) -> TensorOrNumber:
    """``S = mu * N / P * (R / C)^2`` with ``N = rpm / 60`` and ``P = load / (2 R L)`` (SI units).

    Load in N, viscosity in Pa*s. Broadcasts over tensors; every input must be positive. The
    defaults of the rig (500 N, 3600 rpm, 0.03 Pa*s) give S = 0.9112.
    """
    _check_positive("Load", load)
    _check_positive("Speed", rpm)
    _check_positive("Viscosity", viscosity)
    pressure = load / (2 * geometry.shaft_radius * geometry.length)
    ratio = (geometry.shaft_radius / geometry.radial_clearance) ** 2
    return viscosity * (rpm / 60.0) / pressure * ratio
