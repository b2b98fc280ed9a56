import pytest
import torch

from pfdtrain.physics import SommerfeldConsistencyLoss, sommerfeld_number


def test_sommerfeld_number_by_hand():
    # S = mu N / P (R/C)^2 = 0.03 * 60 / (500 / (2 * 0.015 * 0.015)) * 750^2
    assert abs(sommerfeld_number(500.0, 3600.0, 0.03) - 0.91125) < 1e-12
    with pytest.raises(ValueError, match="Load must be positive, got 0"):
        sommerfeld_number(0.0, 3600.0, 0.03)
    with pytest.raises(ValueError, match="Speed must be positive"):
        sommerfeld_number(torch.tensor([500.0]), torch.tensor([-1.0]), 0.03)


def test_levels_and_loss():
    loss = SommerfeldConsistencyLoss()
    # S: 0.91 (1.5), 0.0911 (3.0), 9.11 (0.5)
    load = torch.tensor([500.0, 5000.0, 50.0])
    severity = torch.tensor([1.5, 2.0, 0.5])
    value = loss(severity, load=load)
    torch.testing.assert_close(value, torch.tensor((0.0 + 1.0 + 0.0) / 3))


def test_soft_two_d_severity_is_differentiable_hard_is_not():
    scores = torch.randn(3, 4, requires_grad=True)
    soft = SommerfeldConsistencyLoss()(scores)
    assert soft.requires_grad and torch.isfinite(torch.autograd.grad(soft, scores)[0]).all()
    assert not SommerfeldConsistencyLoss(mode="hard")(scores).requires_grad
