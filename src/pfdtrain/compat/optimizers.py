"""Legacy ``training.optimizers`` on top of :mod:`pfdtrain.optim`.

Kept quirks: ``create_optimizer(model_params, optimizer_name='adam', ...)`` (the *old* argument
order) warns with a fixed ``DeprecationWarning`` first, then delegates to
``cnn_optimizer.create_optimizer``; ``create_scheduler`` lower-cases the name and derives its
defaults from ``num_epochs`` (``step_size = n // 3``, ``T_0 = n // 4``, ``eta_min = 1e-6``,
OneCycle with 100 steps per epoch), passing other keywords to torch.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torch.optim import SGD, Adam, AdamW, RMSprop
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)

from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, Any, Dict, Optional, get_logger

__all__ = [
    # module-level names of the legacy module (served as training.optimizers.<name>)
    "NUM_CLASSES",
    "SGD",
    "SIGNAL_LENGTH",
    "Adam",
    "AdamW",
    "Any",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "Dict",
    "OneCycleLR",
    "Optional",
    "RMSprop",
    "ReduceLROnPlateau",
    "StepLR",
    "create_optimizer",
    "create_scheduler",
    "get_lr",
    "logger",
    "nn",
    "set_lr",
    "torch",
    "warnings",
]

logger = get_logger("training.optimizers")

_DEPRECATION = (
    "training.optimizers.create_optimizer() is deprecated. Use training.cnn_optimizer.create_optimizer() "
    "instead. Note: The new function has parameter order (optimizer_type, model_params, ...) instead of "
    "(model_params, optimizer_name, ...)"
)


def create_optimizer(model_params: Any, optimizer_name: str = "adam", lr: float = 1e-3, weight_decay: float = 1e-4,
                     **kwargs: Any) -> Any:
    warnings.warn(_DEPRECATION, DeprecationWarning, stacklevel=2)
    from pfdtrain.compat.cnn_optimizer import create_optimizer as new_create_optimizer  # read now, as legacy

    return new_create_optimizer(optimizer_type=optimizer_name, model_params=model_params, lr=lr,
                                weight_decay=weight_decay, **kwargs)


def create_scheduler(optimizer: Any, scheduler_name: str = "cosine", num_epochs: int = 100, **kwargs: Any) -> Any:
    """Legacy defaults taken out of ``kwargs`` (so a keyword given twice is torch's/Python's
    ``TypeError``, e.g. ``epochs`` for OneCycle); the rest goes to this module's torch class."""
    scheduler_name = scheduler_name.lower()
    if scheduler_name == "step":
        step_size, gamma = kwargs.pop("step_size", num_epochs // 3), kwargs.pop("gamma", 0.1)
        return StepLR(optimizer, step_size=step_size, gamma=gamma, **kwargs)
    if scheduler_name == "cosine":
        t_max, eta_min = kwargs.pop("T_max", num_epochs), kwargs.pop("eta_min", 1e-6)
        return CosineAnnealingLR(optimizer, T_max=t_max, eta_min=eta_min, **kwargs)
    if scheduler_name == "plateau":
        mode, factor, patience = kwargs.pop("mode", "min"), kwargs.pop("factor", 0.1), kwargs.pop("patience", 10)
        return ReduceLROnPlateau(optimizer, mode=mode, factor=factor, patience=patience, **kwargs)
    if scheduler_name == "onecycle":
        max_lr, steps_per_epoch = kwargs.pop("max_lr", 1e-2), kwargs.pop("steps_per_epoch", 100)
        return OneCycleLR(optimizer, max_lr=max_lr, epochs=num_epochs, steps_per_epoch=steps_per_epoch, **kwargs)
    if scheduler_name == "cosine_restarts":
        t_0, t_mult, eta_min = kwargs.pop("T_0", num_epochs // 4), kwargs.pop("T_mult", 2), kwargs.pop("eta_min", 1e-6)
        return CosineAnnealingWarmRestarts(optimizer, T_0=t_0, T_mult=t_mult, eta_min=eta_min, **kwargs)
    raise ValueError(f"Unknown scheduler: {scheduler_name}")


def get_lr(optimizer: Any) -> Any:
    return optimizer.param_groups[0]["lr"]


def set_lr(optimizer: Any, lr: float) -> None:
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr
