import pytest
import torch
from torch import nn

from pfdtrain.optim import create_optimizer, get_lr, parameter_groups, set_lr


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))


@pytest.mark.parametrize(("name", "cls"), [("adamw", torch.optim.AdamW), ("ADAM", torch.optim.Adam),
                                      ("sgd", torch.optim.SGD), ("rmsprop", torch.optim.RMSprop)])
def test_builds_each_optimizer_with_defaults(name, cls):
    opt = create_optimizer(name, _model().parameters(), lr=0.01, weight_decay=0.1)
    assert type(opt) is cls
    group = opt.param_groups[0]
    assert group["lr"] == 0.01 and group["weight_decay"] == 0.1
    if cls is torch.optim.SGD:
        assert group["momentum"] == 0.9 and group["nesterov"] is True


def test_unknown_name_and_unknown_keyword_are_errors():
    with pytest.raises(ValueError, match="adam, adamw, rmsprop, sgd"):
        create_optimizer("lamb", _model().parameters())
    with pytest.raises(TypeError, match=r"\['epss'\].*eps"):
        create_optimizer("adamw", _model().parameters(), epss=1e-6)
    opt = create_optimizer("rmsprop", _model().parameters(), momentum=0.5, eps=1e-5)  # forwarded, not dropped
    assert opt.param_groups[0]["momentum"] == 0.5 and opt.param_groups[0]["eps"] == 1e-5


def test_group_values_override_factory_values_and_lr_helpers():
    opt = create_optimizer("adamw", parameter_groups(_model(), weight_decay=0.05, lr=3e-4), lr=1.0)
    assert [g["lr"] for g in opt.param_groups] == [3e-4, 3e-4]
    assert [g["weight_decay"] for g in opt.param_groups] == [0.05, 0.0]
    set_lr(opt, 0.5)
    assert get_lr(opt) == 0.5 and get_lr(opt, 1) == 0.5
