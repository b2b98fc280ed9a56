import math

import pytest
import torch
import torch.nn.functional as F

from pfdtrain.losses import FocalLoss, focal_loss


def _reference(logits, targets, gamma, eps=None):
    out = []
    for row, y in zip(logits.tolist(), targets.tolist(), strict=True):
        z = [math.exp(v - max(row)) for v in row]
        p = z[y] / sum(z)
        nll = -math.log(p) if eps is None else -math.log(p + eps)
        out.append((1 - p) ** gamma * nll)
    return torch.tensor(out)


def test_default_matches_hand_computed_focal():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    targets = torch.tensor([0, 2])
    got = focal_loss(logits, targets, gamma=2.0, reduction="none")
    torch.testing.assert_close(got, _reference(logits, targets, 2.0))


def test_gamma_zero_is_cross_entropy():
    logits = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    targets = torch.tensor([0, 1, 2, 3, 0, 1])
    torch.testing.assert_close(FocalLoss(gamma=0.0)(logits, targets), F.cross_entropy(logits, targets))


def test_log_eps_reproduces_the_cnn_losses_variant_on_confidently_wrong_rows():
    logits = torch.tensor([[20.0, 0.0, -2.0], [0.0, 18.0, 1.0]])
    targets = torch.tensor([2, 0])
    exact = focal_loss(logits, targets, reduction="none")
    capped = focal_loss(logits, targets, reduction="none", log_eps=1e-8)
    torch.testing.assert_close(capped, _reference(logits, targets, 2.0, eps=1e-8))
    torch.testing.assert_close(exact, _reference(logits, targets, 2.0))
    assert (exact - capped).min() > 0.1  # the +1e-8 caps -log(p_t) near 18.4


def test_alpha_weights_per_class_and_scalar_alpha_is_rejected():
    logits = torch.zeros(2, 3)
    targets = torch.tensor([0, 2])
    alpha = torch.tensor([0.5, 1.0, 2.0])
    plain = focal_loss(logits, targets, reduction="none")
    weighted = FocalLoss(alpha=[0.5, 1.0, 2.0], reduction="none")(logits, targets)
    torch.testing.assert_close(weighted, plain * alpha[targets])
    with pytest.raises(TypeError, match="per-class weight vector"):
        FocalLoss(alpha=0.25)


def test_errors_name_received_shapes_and_reductions():
    with pytest.raises(ValueError, match=r"received logits \[4\] and targets \[4\]"):
        focal_loss(torch.zeros(4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="reduction must be one of"):
        FocalLoss(reduction="batchmean")
