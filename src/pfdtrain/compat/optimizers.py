"""Legacy ``training.optimizers`` on top of :mod:`pfdtrain.optim`.

Kept quirks: ``create_optimizer(model_params, optimizer_name='adam', ...)`` (the *old* argument
order) warns with a fixed ``DeprecationWarning`` first, then delegates to
``cnn_optimizer.create_optimizer``; ``create_scheduler`` lower-cases the name and derives its
defaults from ``num_epochs`` (``step_size = n // 3``, ``T_0 = n // 4``, ``eta_min = 1e-6``,
OneCycle with 100 steps per epoch), passing other keywords to torch.
"""

from __future__ import annotations

import warnings

from pfdtrain.optim import create_scheduler as _create_scheduler
from pfdtrain.optim import get_lr as _get_lr
from pfdtrain.optim import set_lr as _set_lr

__all__ = ["create_optimizer", "create_scheduler", "get_lr", "set_lr"]

_DEPRECATION = (
    "training.optimizers.create_optimizer() is deprecated. Use training.cnn_optimizer.create_optimizer() "
    "instead. Note: The new function has parameter order (optimizer_type, model_params, ...) instead of "
    "(model_params, optimizer_name, ...)"
)


def create_optimizer(model_params, optimizer_name="adam", lr=1e-3, weight_decay=1e-4, **kwargs):
    warnings.warn(_DEPRECATION, DeprecationWarning, stacklevel=2)
    from pfdtrain.compat.cnn_optimizer import create_optimizer as _create

    return _create(optimizer_type=optimizer_name, model_params=model_params, lr=lr,
                   weight_decay=weight_decay, **kwargs)


def create_scheduler(optimizer, scheduler_name="cosine", num_epochs=100, **kwargs):
    name = scheduler_name.lower()
    if name == "step":
        defaults = {"step_size": num_epochs // 3, "gamma": 0.1}
    elif name == "cosine":
        defaults = {"T_max": num_epochs, "eta_min": 1e-6}
    elif name == "plateau":
        defaults = {"mode": "min", "factor": 0.1, "patience": 10}
    elif name == "onecycle":
        defaults = {"max_lr": 1e-2, "epochs": num_epochs, "steps_per_epoch": 100}
    elif name == "cosine_restarts":
        defaults = {"T_0": num_epochs // 4, "T_mult": 2, "eta_min": 1e-6}
    else:
        raise ValueError(f"Unknown scheduler: {name}")
    return _create_scheduler(name, optimizer, **{**defaults, **kwargs})


def get_lr(optimizer):
    return _get_lr(optimizer)


def set_lr(optimizer, lr):
    _set_lr(optimizer, lr)
