from collections import OrderedDict

from torch import nn

from pfdtrain.optim import parameter_groups


def _names(model, group):
    lookup = {id(p): n for n, p in model.named_parameters()}
    return [lookup[id(p)] for p in group["params"]]


def test_by_module_type_not_by_name():
    model = nn.Sequential(OrderedDict(
        subnet=nn.Linear(2, 2), abnormal=nn.Linear(2, 2), ln=nn.LayerNorm(2), gn=nn.GroupNorm(1, 2),
        bn=nn.BatchNorm1d(2), head=nn.Linear(2, 1)))
    model.head.bias.requires_grad_(False)
    decay, no_decay = parameter_groups(model, weight_decay=0.1)
    assert _names(model, decay) == ["subnet.weight", "abnormal.weight", "head.weight"]
    assert _names(model, no_decay) == ["subnet.bias", "abnormal.bias", "ln.weight", "ln.bias", "gn.weight",
                                       "gn.bias", "bn.weight", "bn.bias"]  # frozen head.bias left out
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0 and "lr" not in decay


def test_empty_groups_dropped_unless_kept():
    model = nn.Sequential(nn.LayerNorm(3))
    assert len(parameter_groups(model)) == 1
    assert [len(g["params"]) for g in parameter_groups(model, lr=0.1, keep_empty=True)] == [0, 2]


def test_custom_rule():
    model = nn.Sequential(nn.Linear(2, 2))
    groups = parameter_groups(model, no_decay=lambda name, p, m: True)
    assert len(groups) == 1 and groups[0]["weight_decay"] == 0.0
