import math

import numpy as np
import torch

from pfdtrain.physics import SpectralDistanceLoss, expected_frequencies

SR = 20480


def _reference(signal, classes, rpm):
    total = 0.0
    for b in range(signal.shape[0]):
        mag = np.abs(np.fft.rfft(signal[b].double().numpy()))
        obs = mag / (mag.max() + 1e-6)
        bins = np.fft.rfftfreq(signal.shape[1], 1 / SR)
        lines = expected_frequencies(int(classes[b]), float(rpm[b]), 10)
        amp = [1 / (i + 1) if classes[b] == 1 else (1.0 if i == 0 or classes[b] != 2 else 0.1)
               for i in range(len(lines))]
        exp = sum(a * np.exp(-((bins - f) ** 2) / (2 * (0.05 * f) ** 2)) for a, f in zip(amp, lines, strict=True))
        exp = exp / (exp.max() + 1e-6)
        total += np.mean((obs - exp) ** 2)
    return total / signal.shape[0]


def test_hard_mode_matches_per_sample_reference_with_mixed_rpm():
    gen = torch.Generator().manual_seed(0)
    signal = torch.randn(11, 1024, generator=gen)
    classes = torch.arange(11)
    logits = torch.nn.functional.one_hot(classes, 11).float() * 5
    rpm = 1500 + 3000 * torch.rand(11, generator=gen)
    got = SpectralDistanceLoss(SR, mode="hard")(signal, logits, rpm)
    assert math.isclose(got.item(), _reference(signal, classes, rpm), rel_tol=1e-4)


def test_soft_mode_gradients_reach_signal_and_predictions():
    gen = torch.Generator().manual_seed(1)
    signal = torch.randn(4, 512, generator=gen, requires_grad=True)
    logits = torch.randn(4, 11, generator=gen, requires_grad=True)
    loss = SpectralDistanceLoss(SR)(signal, logits, torch.tensor([1000.0, 2000.0, 3000.0, 4000.0]))
    gs, gl = torch.autograd.grad(loss, [signal, logits])
    assert torch.isfinite(gs).all() and torch.isfinite(gl).all() and gl.abs().sum() > 0


def test_soft_equals_hard_for_confident_predictions():
    gen = torch.Generator().manual_seed(2)
    signal = torch.randn(6, 512, generator=gen)
    logits = torch.nn.functional.one_hot(torch.tensor([0, 3, 6, 8, 9, 10]), 11).float() * 100
    soft = SpectralDistanceLoss(SR)(signal, logits)
    hard = SpectralDistanceLoss(SR, mode="hard")(signal, logits)
    torch.testing.assert_close(soft, hard)
