import torch
from torch import nn

from pfdtrain.augment import fgsm


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(8, 3))


def test_fgsm_leaves_model_alone_by_default():
    model = _model().train()
    x = torch.randn(4, 1, 8)
    y = torch.tensor([0, 1, 2, 0])
    adv = fgsm(model, x, y, epsilon=0.1)
    assert model.training and all(p.grad is None for p in model.parameters())
    assert torch.allclose((adv - x).abs(), torch.full_like(x, 0.1)) or (adv - x).abs().max() <= 0.1 + 1e-6
    legacy = fgsm(model, x, nn.functional.one_hot(y, 3).float(), 0.1, restore_mode=False, param_grads=True)
    assert torch.equal(adv, legacy) and not model.training and all(p.grad is not None for p in model.parameters())
