"""Expected spectral lines of the 11 fault classes, as tensors usable for a whole batch.

Every line is ``fixed_hz + multiple * f_shaft`` (``f_shaft = rpm / 60``): fixed lines for
healthy / lubrication / cavitation, shaft harmonics for misalignment / imbalance / looseness /
oil whirl, bearing defect frequencies (multiples of ``f_shaft`` too) for wear.

Classes 8-10 are combined faults. Legacy had no signature for them (``KeyError``); here each is
the union of its components' lines, **interleaved** (first line of each component, then the
second...) with duplicates dropped, so truncating to the first ``top_k`` lines keeps the
strongest lines of both faults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import zip_longest

import torch

from pfdtrain.physics.bearing import SKF_6205, BearingGeometry
from pfdtrain.physics.constants import FAULT_CLASSES


@dataclass(frozen=True)
class FaultSignature:
    name: str
    lines: tuple[tuple[str, float], ...]  # ("hz", 500.0) | ("x", 2.0) | ("BPFO", 2.0) ...
    profile: str  # amplitude profile of the lines in the expected spectrum


def _x(*multiples: float) -> tuple[tuple[str, float], ...]:
    return tuple(("x", m) for m in multiples)


def _hz(*values: float) -> tuple[tuple[str, float], ...]:
    return tuple(("hz", v) for v in values)


_BASE: tuple[FaultSignature, ...] = (
    FaultSignature("healthy", _hz(500.0, 1000.0, 1500.0), "uniform_low"),
    FaultSignature("misalignment", _x(1.0, 2.0, 3.0), "harmonic_decay"),
    FaultSignature("imbalance", _x(1.0), "single_peak"),
    FaultSignature("looseness", _x(1.0, 2.0, 3.0, 0.3, 0.5), "chaotic"),
    FaultSignature("lubrication", _hz(2000.0, 3000.0, 4000.0), "random_high_freq"),
    FaultSignature("cavitation", _hz(2000.0, 3000.0, 4000.0), "burst"),
    FaultSignature(
        "wear",
        (("BPFO", 1.0), ("BPFO", 2.0), ("BPFO", 3.0), ("BPFI", 1.0), ("BPFI", 2.0), ("BPFI", 3.0), ("FTF", 1.0)),
        "broadband_elevated",
    ),
    FaultSignature("oil_whirl", _x(0.42, 0.43, 0.48), "subsynchronous"),
)


def _combine(name: str, *components: FaultSignature) -> FaultSignature:
    lines: list[tuple[str, float]] = []
    for group in zip_longest(*(c.lines for c in components)):
        for line in group:
            if line is not None and line not in lines:
                lines.append(line)
    return FaultSignature(name, tuple(lines), "combined")


FAULT_SIGNATURES: tuple[FaultSignature, ...] = (
    *_BASE,
    _combine("combined_misalign_imbalance", _BASE[1], _BASE[2]),
    _combine("combined_wear_lube", _BASE[6], _BASE[4]),
    _combine("combined_cavit_jeu", _BASE[5], _BASE[3]),
)
assert tuple(s.name for s in FAULT_SIGNATURES) == FAULT_CLASSES

#: Legacy spectral-template noise: ``level * randn * 0.1`` for these profiles.
NOISE_LEVELS = {"uniform_low": 0.1, "broadband_elevated": 0.3}


def _amplitude(profile: str, i: int) -> float:
    if profile == "exponential_decay":
        return math.exp(-0.3 * i)
    if profile == "harmonic_decay":
        return 1.0 / (i + 1)
    if profile == "single_peak":
        return 1.0 if i == 0 else 0.1
    return 1.0


@dataclass(frozen=True)
class SignatureTable:
    """``[K, M]`` tensors: line ``m`` of class ``k`` is ``fixed + multiple * f_shaft`` where valid."""

    fixed: torch.Tensor
    multiple: torch.Tensor
    valid: torch.Tensor
    amplitude: torch.Tensor
    count: torch.Tensor  # [K] number of valid lines

    def to(self, device: torch.device, dtype: torch.dtype) -> SignatureTable:
        return SignatureTable(
            self.fixed.to(device, dtype), self.multiple.to(device, dtype), self.valid.to(device),
            self.amplitude.to(device, dtype), self.count.to(device, dtype),
        )

    def frequencies(self, shaft_hz: torch.Tensor) -> torch.Tensor:
        """``[B, K, M]`` line frequencies for per-sample shaft frequencies ``[B]``."""
        return self.fixed + self.multiple * shaft_hz.reshape(-1, 1, 1)


def signature_table(
    top_k: int,
    geometry: BearingGeometry = SKF_6205,
    signatures: tuple[FaultSignature, ...] = FAULT_SIGNATURES,
) -> SignatureTable:
    """The first ``top_k`` lines of every class, padded to a common width (float64, CPU)."""
    mult = geometry.frequency_multipliers()
    width = max(1, min(top_k, max(len(s.lines) for s in signatures)))
    k = len(signatures)
    fixed = torch.zeros(k, width, dtype=torch.float64)
    multiple = torch.zeros(k, width, dtype=torch.float64)
    valid = torch.zeros(k, width, dtype=torch.bool)
    amplitude = torch.zeros(k, width, dtype=torch.float64)
    for ci, sig in enumerate(signatures):
        for li, (kind, value) in enumerate(sig.lines[:width]):
            if kind == "hz":
                fixed[ci, li] = value
            else:
                multiple[ci, li] = value * (1.0 if kind == "x" else mult[kind])
            valid[ci, li] = True
            amplitude[ci, li] = _amplitude(sig.profile, li)
    return SignatureTable(fixed, multiple, valid, amplitude, valid.sum(1).to(torch.float64))


def expected_frequencies(fault_class: int, rpm: float, top_k: int = 5,
                         geometry: BearingGeometry = SKF_6205) -> list[float]:
    """The first ``top_k`` expected lines (Hz) of one class at ``rpm``: a readable scalar helper."""
    table = signature_table(top_k, geometry)
    freqs = table.frequencies(torch.tensor([rpm / 60.0], dtype=torch.float64))[0, fault_class]
    return freqs[table.valid[fault_class]].tolist()
