import pytest
import torch
import torch.nn.functional as F

from pfdtrain.losses import LabelSmoothingCrossEntropy, label_smoothing_cross_entropy


def test_matches_torch_label_smoothing():
    logits = torch.randn(5, 7, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([0, 6, 3, 3, 1])
    for s in (0.0, 0.1, 0.3):
        torch.testing.assert_close(
            LabelSmoothingCrossEntropy(s)(logits, targets), F.cross_entropy(logits, targets, label_smoothing=s)
        )


def test_hand_computed_target():
    logits = torch.tensor([[0.0, 0.0]])
    # uniform prediction: loss = -log(1/2) whatever the target
    got = label_smoothing_cross_entropy(logits, torch.tensor([1]), 0.2, "sum")
    torch.testing.assert_close(got, torch.log(torch.tensor(2.0)))


def test_range_check_and_the_uniform_variant():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        LabelSmoothingCrossEntropy(1.0)
    loss = LabelSmoothingCrossEntropy(1.0, allow_uniform=True)  # legacy training.losses accepted 1.0
    logits = torch.tensor([[3.0, 0.0, -3.0]])
    expected = -F.log_softmax(logits, 1).mean()
    torch.testing.assert_close(loss(logits, torch.tensor([0])), expected)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        LabelSmoothingCrossEntropy(1.5, allow_uniform=True)
