import torch

from pfdtrain.physics import PhysicalConstraintLoss


def test_terms_and_total_and_no_active_term_gives_a_tensor():
    gen = torch.Generator().manual_seed(0)
    signal = torch.randn(4, 1, 1024, generator=gen)
    logits = torch.randn(4, 11, generator=gen, requires_grad=True)
    seq = torch.randn(3, 4, 11, generator=gen)
    total, terms = PhysicalConstraintLoss(1.0, 0.5, 0.1)(
        signal, logits, {"rpm": torch.tensor([1000.0, 2000.0, 3000.0, 4000.0])},
        severity_predictions=torch.randn(4, 4, generator=gen), predictions_sequence=seq)
    assert list(terms) == ["freq_consistency", "sommerfeld_consistency", "temporal_smoothness", "total_physics"]
    expected = terms["freq_consistency"] + 0.5 * terms["sommerfeld_consistency"] + 0.1 * terms["temporal_smoothness"]
    torch.testing.assert_close(total.detach(), expected)
    assert total.requires_grad
    total, terms = PhysicalConstraintLoss(lambda_freq=0.0)(signal, logits)
    assert isinstance(total, torch.Tensor) and total.item() == 0.0 and list(terms) == ["total_physics"]
