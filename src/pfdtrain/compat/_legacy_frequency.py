"""Legacy ``FrequencyConsistencyLoss`` values to the last float32 bit.

The core loss (:class:`pfdtrain.physics.FrequencyConsistencyLoss`) scores the whole batch in one
tensor expression; in its ``mode='hard', normalize='top_k'`` configuration it computes the legacy
quantity, but its float32 value can differ from the legacy one in the last bits (for 2 batches in
3 on random data), and ``PINNTrainer`` histories, printed ``Phys:`` values and saved results
follow. Three things decide those bits, and this module reproduces each:

* the expected lines: legacy computed them per sample with NumPy scalars in its own operation
  order (bearing geometry in millimetres, ``(n/2) * f_s * (1 - r)``, then ``* harmonic``), so the
  wear lines carry the rounding of that order, and the array dtype follows NumPy's rules (int64
  for the fixed-frequency classes, float32 when ``rpm`` came from a float32 tensor);
* the distance ``|peak - f| / (f + 1e-6)``: float32, except that ``f + 1e-6`` is evaluated in
  the line's own dtype before it is rounded to float32;
* the reduction: one float32 running sum over samples, then lines, divided by ``B * top_k``.

The spectrum, peaks and distances are plain torch calls, per sample, as cheap as legacy's.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from pfdtrain.physics._spectrum import as_batch_signal, magnitude
from pfdtrain.physics.constants import FAULT_CLASSES, NOMINAL_RPM
from pfdtrain.physics.signatures import FAULT_SIGNATURES

__all__ = ["legacy_expected_lines", "legacy_frequency_loss", "legacy_rpm"]

#: Classes legacy had a signature for; 8-10 (combined faults) raised ``KeyError``.
_LEGACY_CLASSES = 8
#: The legacy default bearing (SKF 6205) in legacy units: ball and pitch diameters in mm.
_N_BALLS, _BALL_MM, _PITCH_MM, _CONTACT_DEG = 9, 7.94, 39.04, 0.0


def legacy_rpm(metadata: Any) -> Any:
    """The speed legacy used: ``metadata['rpm']``, element 0 of an array or tensor, default 3600.0.

    The type is kept (a ``numpy.float32`` from a float32 tensor makes the lines float32)."""
    if metadata is None or "rpm" not in metadata:
        return NOMINAL_RPM
    rpm = metadata["rpm"]
    if isinstance(rpm, torch.Tensor):
        rpm = rpm.detach().cpu().numpy()
    if isinstance(rpm, np.ndarray):
        rpm = rpm[0] if rpm.ndim > 0 else float(rpm)
    return rpm


def _bearing_lines(rpm: Any) -> dict[str, Any]:
    """Shaft and bearing fault frequencies in legacy's operation order and scalar types."""
    shaft = rpm / 60.0
    ratio = (_BALL_MM / _PITCH_MM) * np.cos(np.radians(_CONTACT_DEG))
    return {
        "x": shaft,
        "FTF": (shaft / 2.0) * (1.0 - ratio),
        "BPFO": (_N_BALLS / 2.0) * shaft * (1.0 - ratio),
        "BPFI": (_N_BALLS / 2.0) * shaft * (1.0 + ratio),
        "BSF": (_PITCH_MM / (2.0 * _BALL_MM)) * shaft * (1.0 - ratio**2),
    }


def legacy_expected_lines(fault_class: int, rpm: Any, top_k: int) -> np.ndarray:
    """The first ``top_k`` expected lines of a class as the legacy signature database returned
    them (``KeyError(name)`` for the combined classes 8-10)."""
    if fault_class >= _LEGACY_CLASSES:
        raise KeyError(FAULT_CLASSES[fault_class])
    lines = FAULT_SIGNATURES[fault_class].lines
    if all(kind == "hz" for kind, _ in lines):
        return np.array([int(value) for _, value in lines])[:top_k]
    base = _bearing_lines(rpm)
    values = [value * base["x"] if kind == "x" else base[kind] * int(value) for kind, value in lines]
    return np.array(values)[:top_k]


@functools.lru_cache(maxsize=64)
def _class_table(rpm_type: str, rpm: Any, top_k: int,
                 dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Lines (in the peaks' ``dtype``), divisors ``f + 1e-6`` (in the lines' own dtype, then
    ``dtype``) and a mask, one padded row per legacy class, for one speed (its type is part of the
    key: a float32 rpm gives float32 lines)."""
    width = max(1, top_k)
    table = torch.zeros(_LEGACY_CLASSES, width, dtype=dtype)
    divisors = torch.ones(_LEGACY_CLASSES, width, dtype=dtype)
    valid = torch.zeros(_LEGACY_CLASSES, width, dtype=torch.bool)
    for fault_class in range(_LEGACY_CLASSES):
        lines = torch.tensor(legacy_expected_lines(fault_class, rpm, top_k))
        lines = lines[lines != 0]
        count = lines.numel()
        table[fault_class, :count] = lines.to(dtype)
        divisors[fault_class, :count] = (lines + 1e-6).to(dtype)
        valid[fault_class, :count] = True
    return table, divisors, valid


def legacy_frequency_loss(signal: torch.Tensor, predictions: torch.Tensor, metadata: Any, *,
                          sample_rate: float, n_fft: int | None, top_k: int, tolerance: float) -> torch.Tensor:
    """Mean over ``B * top_k`` of ``relu(min_peak |peak - f| / (f + 1e-6) - tolerance)``, summed
    for each sample's argmax class and each of its non-zero expected lines, in legacy order."""
    x = as_batch_signal(signal, predictions, "FrequencyConsistencyLoss")
    rpm = legacy_rpm(metadata)
    spectrum, n = magnitude(x, n_fft)
    bins = torch.fft.rfftfreq(n, d=1.0 / sample_rate).to(x.device)
    n_peaks = min(top_k * 2, spectrum.shape[-1])
    peaks = bins[spectrum.topk(n_peaks, dim=-1).indices]  # [B, P] Hz, float32
    classes = predictions.argmax(dim=1)
    batch = classes.numel()
    combined = (classes >= _LEGACY_CLASSES).nonzero()
    if combined.numel():  # legacy went sample by sample: the first such sample raised
        legacy_expected_lines(int(classes[combined[0, 0]]), rpm, top_k)
    # Legacy used one rpm for the whole batch, so a sample's lines depend on its class alone: the
    # table of every class's lines and divisors (padded, with a mask) is gathered per sample, and
    # every sample goes through the same elementwise operations at once.
    rpm_type = f"{type(rpm).__module__}.{type(rpm).__qualname__}"
    table, divisors, valid = (t.to(x.device) for t in _class_table(rpm_type, rpm, top_k, peaks.dtype))
    lines_of, divisor_of = table[classes], divisors[classes]  # [B, K]
    distance = (peaks[:, None, :] - lines_of[:, :, None]).abs() / divisor_of[:, :, None]  # [B, K, P]
    terms = F.relu(distance.amin(dim=2) - tolerance)[valid[classes]]  # sample by sample, line by line
    # Legacy added the terms one by one in float32; numpy's accumulate is that same sequential sum.
    flat = terms.cpu().numpy().astype(np.float32)
    total = np.add.accumulate(flat, dtype=np.float32)[-1] if flat.size else np.float32(0.0)
    return torch.tensor(total / np.float32(batch * top_k), dtype=torch.float32, device=x.device)
