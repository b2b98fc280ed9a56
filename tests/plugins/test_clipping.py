import pytest
import torch

from pfd_testing import make_loader, make_model
from pfdtrain import Callback, Trainer
from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins import GradientClipping, MixedPrecision


class GradSpy(Callback):
    def __init__(self):
        self.norms_after, self.reported, self.max_abs = [], [], []

    def on_before_optimizer_step(self, trainer, optimizer):
        grads = [p.grad for p in trainer.model.parameters()]
        total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        self.norms_after.append(total.item())
        self.max_abs.append(max(g.abs().max().item() for g in grads))
        self.reported.append(float(trainer.grad_norm))


def _fit(plugins, lr=0.1):
    spy = GradSpy()
    model = make_model(dropout=0.0)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=lr), plugins=plugins, callbacks=[spy],
                      max_epochs=1, enable_progress_bar=False)
    trainer.fit(make_loader())
    return spy


def test_clip_by_norm_reports_the_pre_clip_norm():
    unclipped = _fit([GradientClipping(max_norm=1e9)])  # same run, nothing clipped
    clipped = _fit([GradientClipping(max_norm=0.05)])
    assert clipped.reported[0] == pytest.approx(unclipped.norms_after[0], rel=1e-6)
    assert all(n <= 0.05 * (1 + 1e-5) for n in clipped.norms_after)
    assert clipped.reported[0] > 0.05


def test_clip_by_value():
    spy = _fit([GradientClipping(max_value=0.01)])
    assert all(m <= 0.01 + 1e-9 for m in spy.max_abs)


def test_clipping_happens_after_unscaling_under_fp16():
    spy = _fit([MixedPrecision("16-mixed", init_scale=4096.0, allow_fp16_on_cpu=True), GradientClipping(max_norm=0.05)])
    assert all(n <= 0.05 * (1 + 1e-3) for n in spy.norms_after)  # true-scale gradients were clipped


@pytest.mark.parametrize("kw", [{}, {"max_norm": 1.0, "max_value": 1.0}, {"max_norm": 0.0}])
def test_bad_clipping_arguments(kw):
    with pytest.raises(ConfigurationError):
        GradientClipping(**kw)
