import pytest
import torch

from pfdtrain.losses import compute_class_weights


def test_inverse_frequency_by_hand():
    # 6 samples, 3 classes with counts 3, 2, 1 -> 6 / (3 * count)
    w = compute_class_weights(torch.tensor([0, 0, 0, 1, 1, 2]), 3)
    torch.testing.assert_close(w, torch.tensor([6 / 9, 6 / 6, 6 / 3]))
    assert w.dtype == torch.float32


def test_missing_class_gets_zero_or_the_legacy_huge_value():
    targets = torch.tensor([0, 0, 1])
    assert compute_class_weights(targets, 3)[2] == 0
    legacy = compute_class_weights(targets, 3, missing_class_weight=None)
    assert legacy[2] > 1e9 and torch.isfinite(legacy[2])


def test_out_of_range_labels():
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        compute_class_weights(torch.tensor([0, 2]), 2)
    assert compute_class_weights(torch.tensor([0, 2]), 2, validate=False).shape == (3,)
