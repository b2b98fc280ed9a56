import torch

from pfdtrain.physics import TemporalSmoothnessLoss


def test_hand_computed_value_and_short_sequences():
    big = 50.0
    seq = torch.tensor([[[big, 0.0]], [[0.0, big]]])  # p jumps from (1, 0) to (0, 1)
    torch.testing.assert_close(TemporalSmoothnessLoss(0.5)(seq), torch.tensor(0.5 * 2.0))
    torch.testing.assert_close(TemporalSmoothnessLoss()(seq, torch.tensor([2.0])), torch.tensor(2.0 / (2.0 + 1e-6)))
    assert TemporalSmoothnessLoss()(seq[:1]).item() == 0.0
