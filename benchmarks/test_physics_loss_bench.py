"""Frequency-consistency loss cost relative to the FFT it is built on (pytest-benchmark).

Run: ``PYTHONPATH=src python -m pytest benchmarks/test_physics_loss_bench.py -q -s``. Batch 64 x
2048 samples, one thread. The three timings come from the same run; what is reported is the
ratio to the baseline (one ``rfft`` + ``topk`` over the batch), never an absolute time, and
nothing here asserts on speed.
"""

from __future__ import annotations

import pytest
import torch

from pfdtrain.compat.physics_loss_functions import FrequencyConsistencyLoss as LegacyFrequencyConsistencyLoss
from pfdtrain.physics import FrequencyConsistencyLoss

BATCH, LENGTH = 64, 2048
_results: dict[str, float] = {}


@pytest.fixture(scope="module")
def data():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    signal = torch.randn(BATCH, 1, LENGTH, generator=gen)
    logits = torch.randn(BATCH, 11, generator=gen)
    logits[:, 8:] -= 100.0  # legacy raises KeyError for predicted classes 8-10
    rpm = 1200 + 4800 * torch.rand(BATCH, generator=gen)
    return signal, logits, rpm


def _run(benchmark, name, fn):
    benchmark.pedantic(fn, rounds=200, iterations=5, warmup_rounds=20)
    _results[name] = benchmark.stats.stats.median


def test_a_baseline_rfft_topk(benchmark, data):
    """rfft + |X| + topk: the peak picking legacy did per sample, done once for the batch."""
    signal = data[0]
    _run(benchmark, "baseline", lambda: torch.fft.rfft(signal).abs().topk(10, dim=-1))


def test_a2_baseline_power_spectrum(benchmark, data):
    """rfft + |X|^2 + topk: a leaner baseline (complex ``abs`` is slow on CPU), for transparency."""
    signal = data[0]

    def power_topk():
        spectrum = torch.fft.rfft(signal)
        return (spectrum * spectrum.conj()).real.topk(10, dim=-1)

    _run(benchmark, "baseline_power", power_topk)


def test_b_core_loss(benchmark, data):
    signal, logits, rpm = data
    loss = FrequencyConsistencyLoss()
    _run(benchmark, "core", lambda: loss(signal, logits, rpm))


def test_c_legacy_adapter(benchmark, data):
    signal, logits, rpm = data
    loss = LegacyFrequencyConsistencyLoss()
    metadata = {"rpm": rpm}
    _run(benchmark, "legacy_adapter", lambda: loss(signal, logits, metadata))


def test_z_report_ratios():
    lines = [
        f"{name}/{base} = {_results[name] / _results[base]:.2f}x"
        for base in ("baseline", "baseline_power")
        for name in ("core", "legacy_adapter")
    ]
    print("\nfrequency-consistency loss, batch 64 x 2048, 1 thread (target <= 1.5x vs baseline):\n  "
          + "\n  ".join(lines))
