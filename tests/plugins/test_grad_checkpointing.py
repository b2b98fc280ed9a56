import pytest
import torch
from torch import nn

from pfdtrain import Trainer
from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins import GradientCheckpointing


class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(*[nn.Sequential(nn.Conv1d(4, 4, 3, padding=1), nn.ReLU(), nn.Dropout(0.3))
                                      for _ in range(4)])
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        return self.head(self.blocks(x).mean(-1))


def _grads(plugins):
    torch.manual_seed(0)
    model = Deep()
    grads = {}

    class Grab:
        pass

    from pfdtrain import Callback

    class Spy(Callback):
        def on_before_optimizer_step(self, trainer, optimizer):
            for n, p in trainer.model.named_parameters():
                grads[n] = p.grad.clone()

    x = torch.randn(8, 4, 32, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 3, (8,), generator=torch.Generator().manual_seed(2))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), plugins=plugins, callbacks=[Spy()],
            max_steps=1, enable_progress_bar=False, seed=5).fit(loader)
    return grads, model


@pytest.mark.parametrize("targets", [["blocks.1", "blocks.2"], [nn.Conv1d]], ids=["by-name", "by-type"])
def test_gradients_equal_the_plain_run(targets):
    plain, _ = _grads([])
    ckpt, model = _grads([GradientCheckpointing(targets)])
    assert plain.keys() == ckpt.keys()
    for k in plain:
        assert (plain[k] - ckpt[k]).abs().max().item() <= 1e-6, k
    assert all("forward" not in vars(m) for m in model.modules())  # unwrapped after fit


def test_unknown_submodule_is_named():
    with pytest.raises(ConfigurationError, match=r"no submodule 'blocks\.9'"):
        _grads([GradientCheckpointing(["blocks.9"])])
