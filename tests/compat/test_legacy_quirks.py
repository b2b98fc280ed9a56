"""Legacy behaviours the golden data does not pin but the spec documents."""

import warnings

import pytest
import torch
from torch import nn

from pfdtrain.compat import cnn_optimizer, optimizers


def _params():
    return nn.Linear(2, 2).parameters()


def test_swapped_argument_orders_fail_like_legacy():
    with pytest.raises(AttributeError, match="'generator' object has no attribute 'lower'"):
        cnn_optimizer.create_optimizer(_params(), "adamw")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(AttributeError, match="'generator' object has no attribute 'lower'"):
            optimizers.create_optimizer("adam", _params())
    assert issubclass(caught[0].category, DeprecationWarning)


def test_old_create_optimizer_warning_is_the_first_and_points_at_the_caller():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizers.create_optimizer(_params(), "sgd")
    assert issubclass(caught[0].category, DeprecationWarning)
    assert caught[0].filename == __file__  # stacklevel=2


def test_scheduler_small_epoch_defaults():
    opt = torch.optim.SGD(_params(), lr=0.1)
    sched = optimizers.create_scheduler(opt, "step", num_epochs=2)
    opt.step()
    with pytest.raises(ZeroDivisionError):
        sched.step()
