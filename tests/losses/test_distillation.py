import pytest
import torch
import torch.nn.functional as F

from pfdtrain.losses import DistillationLoss


def _inputs():
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(4, 3, generator=gen, requires_grad=True)
    t = torch.randn(4, 3, generator=gen, requires_grad=True)
    return s, t, torch.tensor([0, 1, 2, 1])


def test_value_and_parts():
    s, t, y = _inputs()
    total, parts = DistillationLoss(temperature=2.0, alpha=0.25)(s, t, y)
    soft = (F.softmax(t / 2, 1) * (F.log_softmax(t / 2, 1) - F.log_softmax(s / 2, 1))).sum(1).mean() * 4
    hard = F.cross_entropy(s, y)
    torch.testing.assert_close(total, 0.25 * soft + 0.75 * hard)
    assert set(parts) == {"soft_loss", "hard_loss", "total_loss"}
    assert not any(p.requires_grad for p in parts.values())


def test_teacher_is_detached_unless_asked():
    s, t, y = _inputs()
    DistillationLoss()(s, t, y)[0].backward()
    assert t.grad is None and s.grad is not None
    s, t, y = _inputs()
    DistillationLoss(detach_teacher=False)(s, t, y)[0].backward()  # legacy behaviour
    assert t.grad is not None


def test_unknown_hard_loss_lists_valid_names():
    with pytest.raises(ValueError, match=r"cross_entropy.*mse"):
        DistillationLoss(hard_loss="kl")
