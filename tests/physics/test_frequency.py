import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pfdtrain.physics import FrequencyConsistencyLoss, expected_frequencies

SR = 20480


def _batch(seed, batch=12, length=2048):
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(length) / SR
    rpm = 1200 + 4800 * torch.rand(batch, generator=gen)
    classes = torch.arange(batch) % 11  # every class 0-10 appears
    signal = 0.3 * torch.randn(batch, length, generator=gen)
    for b in range(batch):  # put energy at the class lines, with a random error
        for f in expected_frequencies(int(classes[b]), float(rpm[b]), 5):
            signal[b] += torch.sin(2 * torch.pi * f * (1 + 0.2 * torch.rand((), generator=gen)) * t)
    logits = torch.randn(batch, 11, generator=gen)
    logits[torch.arange(batch), classes] += 3.0
    return signal, logits, rpm


def _reference_penalties(signal, rpm, top_k=5, tol=0.1, normalize="per_line"):
    """Per-sample loop, numpy FFT: the loss as the docstring describes it."""
    out = np.zeros((signal.shape[0], 11))
    for b in range(signal.shape[0]):
        mag = np.abs(np.fft.rfft(signal[b].double().numpy()))
        order = np.argsort(-mag, kind="stable")
        # The inputs must pick their peaks with a clear margin: float32 FFTs differ in rounding
        # between CPUs and SIMD sets, and a near tie at the cut would swap which bin is a peak.
        cut, beyond = mag[order[2 * top_k - 1]], mag[order[2 * top_k]]
        assert cut - beyond > 1e-3 * cut, f"sample {b}: peak {2 * top_k} and {2 * top_k + 1} nearly tie"
        peaks = order[: 2 * top_k] * SR / signal.shape[1]
        for k in range(11):
            lines = [f for f in expected_frequencies(k, float(rpm[b]), top_k) if f > 0]
            pen = [max(0.0, np.min(np.abs(peaks - f)) / (f + 1e-6) - tol) for f in lines]
            out[b, k] = sum(pen) / (len(lines) if normalize == "per_line" else top_k)
    return torch.tensor(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_equals_per_sample_reference_with_mixed_rpm_and_all_classes(seed):
    signal, logits, rpm = _batch(seed)
    ref = _reference_penalties(signal, rpm)
    hard = FrequencyConsistencyLoss(SR, mode="hard")(signal, logits, rpm)
    soft = FrequencyConsistencyLoss(SR)(signal, logits, rpm)
    classes = logits.argmax(1)
    torch.testing.assert_close(hard.double(), ref[torch.arange(len(classes)), classes].mean(), rtol=1e-4, atol=1e-5)
    expected_soft = (torch.softmax(logits.double(), 1) * ref).sum(1).mean()
    torch.testing.assert_close(soft.double(), expected_soft, rtol=1e-4, atol=1e-5)
    penalties = FrequencyConsistencyLoss(SR).class_penalties(signal.unsqueeze(1), logits, rpm)
    torch.testing.assert_close(penalties.double(), ref, rtol=1e-4, atol=1e-5)


def test_each_sample_uses_its_own_rpm():
    signal, logits, rpm = _batch(3)
    loss = FrequencyConsistencyLoss(SR, mode="hard")
    moved = rpm.clone()
    moved[0] *= 1.7
    a = loss.class_penalties(signal, logits, rpm)
    b = loss.class_penalties(signal, logits, moved)
    assert torch.equal(a[1:], b[1:]) and not torch.equal(a[0], b[0])


def test_soft_mode_is_differentiable_and_hard_mode_is_not():
    signal, logits, rpm = _batch(4)
    logits.requires_grad_(True)
    loss = FrequencyConsistencyLoss(SR)(signal, logits, rpm)
    (grad,) = torch.autograd.grad(loss, logits)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert not FrequencyConsistencyLoss(SR, mode="hard")(signal, logits, rpm).requires_grad


def test_legacy_parameters_reproduce_the_recorded_legacy_value():
    doc = json.loads((Path(__file__).parents[2] / "golden/numerics/physics_loss_functions.json").read_text())
    case = next(c for c in doc["cases"] if c["id"] == "physics.freq.metadata_rpm")
    signal = torch.tensor(case["inputs"]["signal"]["tensor"])
    logits = torch.tensor(case["inputs"]["predictions"]["tensor"])
    rpm0 = float(case["inputs"]["metadata"]["rpm"]["tensor"][0])  # legacy used the first rpm only
    legacy = FrequencyConsistencyLoss(SR, n_fft=2048, mode="hard", normalize="top_k")(signal, logits, rpm0)
    assert abs(legacy.item() - case["expected"]["output"]["tensor"]) < 1e-5


def test_shape_errors_name_the_received_shapes():
    with pytest.raises(ValueError, match=r"received signal \[4, 2, 100\] and predictions \[4, 11\]"):
        FrequencyConsistencyLoss()(torch.zeros(4, 2, 100), torch.zeros(4, 11))
    with pytest.raises(ValueError, match="one value per sample"):
        FrequencyConsistencyLoss()(torch.zeros(4, 100), torch.zeros(4, 11), torch.ones(3))


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_same_value_on_every_available_device(device):
    signal, logits, rpm = _batch(5)
    ref = FrequencyConsistencyLoss(SR)(signal, logits, rpm)
    got = FrequencyConsistencyLoss(SR)(signal.to(device), logits.to(device), rpm.to(device))
    assert got.device.type == device
    torch.testing.assert_close(got.cpu(), ref, rtol=1e-4, atol=1e-5)
