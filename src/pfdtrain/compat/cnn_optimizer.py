"""Legacy ``training.cnn_optimizer`` on top of :mod:`pfdtrain.optim`.

Kept quirks: ``create_optimizer(optimizer_type, model_params, ...)`` lower-cases the type (and
shows it lower-cased in the error), forwards only ``betas`` (adamw/adam), ``momentum`` /
``nesterov`` (sgd) and ``alpha`` (rmsprop), silently dropping every other keyword (``eps``,
RMSprop ``momentum``); its ``lr=1e-3`` default applies to SGD too. ``get_parameter_groups`` picks
the no-decay group by the *substrings* ``bias``, ``bn``, ``norm`` of the dotted name, keeps empty
groups, and with ``no_decay_bias=False`` returns one group holding the ``model.parameters()``
generator (frozen parameters included).
"""

from __future__ import annotations

from pfdtrain.optim import create_optimizer as _create
from pfdtrain.optim import parameter_groups

__all__ = [
    "OptimizerConfig",
    "create_adamw_optimizer",
    "create_optimizer",
    "create_rmsprop_optimizer",
    "create_sgd_optimizer",
    "get_parameter_groups",
    "test_optimizers",
]


def create_adamw_optimizer(model_params, lr=1e-3, weight_decay=1e-4, betas=(0.9, 0.999), eps=1e-8):
    return _create("adamw", model_params, lr=lr, weight_decay=weight_decay, betas=betas, eps=eps)


def create_sgd_optimizer(model_params, lr=1e-2, momentum=0.9, weight_decay=1e-4, nesterov=True):
    return _create("sgd", model_params, lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov)


def create_rmsprop_optimizer(model_params, lr=1e-3, alpha=0.99, eps=1e-8, weight_decay=1e-4, momentum=0.0):
    return _create("rmsprop", model_params, lr=lr, weight_decay=weight_decay, alpha=alpha, eps=eps, momentum=momentum)


def create_optimizer(optimizer_type, model_params, lr=1e-3, weight_decay=1e-4, **kwargs):
    optimizer_type = optimizer_type.lower()
    if optimizer_type == "adamw":
        return _create("adamw", model_params, lr=lr, weight_decay=weight_decay,
                       betas=kwargs.get("betas", (0.9, 0.999)), eps=1e-8)
    if optimizer_type == "sgd":
        return _create("sgd", model_params, lr=lr, weight_decay=weight_decay,
                       momentum=kwargs.get("momentum", 0.9), nesterov=kwargs.get("nesterov", True))
    if optimizer_type == "rmsprop":
        return _create("rmsprop", model_params, lr=lr, weight_decay=weight_decay,
                       alpha=kwargs.get("alpha", 0.99), eps=1e-8, momentum=0.0)
    if optimizer_type == "adam":
        return _create("adam", model_params, lr=lr, weight_decay=weight_decay,
                       betas=kwargs.get("betas", (0.9, 0.999)))
    raise ValueError(f"Unknown optimizer type: {optimizer_type}. Choose from: adamw, sgd, rmsprop, adam")


class OptimizerConfig:
    """Preset keyword sets for :func:`create_optimizer`."""

    @staticmethod
    def default():
        return {"optimizer_type": "adamw", "lr": 1e-3, "weight_decay": 1e-4, "betas": (0.9, 0.999)}

    @staticmethod
    def fast_convergence():
        return {"optimizer_type": "adamw", "lr": 3e-3, "weight_decay": 1e-4, "betas": (0.9, 0.999)}

    @staticmethod
    def strong_regularization():
        return {"optimizer_type": "adamw", "lr": 1e-3, "weight_decay": 1e-3, "betas": (0.9, 0.999)}

    @staticmethod
    def sgd_baseline():
        return {"optimizer_type": "sgd", "lr": 1e-2, "momentum": 0.9, "weight_decay": 1e-4, "nesterov": True}


def _substring_rule(name, param, module):
    return any(part in name for part in ("bias", "bn", "norm"))


def get_parameter_groups(model, lr=1e-3, weight_decay=1e-4, no_decay_bias=True):
    if not no_decay_bias:
        return [{"params": model.parameters(), "lr": lr, "weight_decay": weight_decay}]
    return parameter_groups(model, weight_decay, lr, no_decay=_substring_rule, keep_empty=True)


def test_optimizers():
    """Smoke test: every optimizer type and preset builds and takes a step."""
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
    inputs = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    for optimizer_type in ("adamw", "sgd", "rmsprop", "adam"):
        optimizer = create_optimizer(optimizer_type, model.parameters())
        model(inputs).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
        print(f"{optimizer_type}: {type(optimizer).__name__} lr={optimizer.param_groups[0]['lr']}")
    for preset in ("default", "fast_convergence", "strong_regularization", "sgd_baseline"):
        create_optimizer(model_params=model.parameters(), **getattr(OptimizerConfig, preset)())
    groups = get_parameter_groups(model)
    print(f"parameter groups: {[len(g['params']) for g in groups]}")
    print("All optimizer tests passed")
