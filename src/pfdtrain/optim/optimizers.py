"""``create_optimizer``: the one optimizer factory. Misspelt names and keywords are errors."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

import torch

#: name -> (class, defaults applied unless overridden)
OPTIMIZERS: dict[str, tuple[type[torch.optim.Optimizer], dict[str, Any]]] = {
    "adamw": (torch.optim.AdamW, {"betas": (0.9, 0.999), "eps": 1e-8}),
    "adam": (torch.optim.Adam, {"betas": (0.9, 0.999), "eps": 1e-8}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (torch.optim.RMSprop, {"alpha": 0.99, "eps": 1e-8, "momentum": 0.0}),
}


def _accepted(cls: type[torch.optim.Optimizer]) -> list[str]:
    names = list(inspect.signature(cls).parameters)
    return [n for n in names if n not in ("self", "params")]


def create_optimizer(
    name: str,
    params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    **kwargs: Any,
) -> torch.optim.Optimizer:
    """Build ``adamw`` / ``adam`` / ``sgd`` / ``rmsprop`` (case-insensitive) on ``params``.

    ``params`` may be parameters or parameter groups (see :func:`parameter_groups`); per-group
    ``lr`` / ``weight_decay`` override the factory values. Defaults: betas (0.9, 0.999), eps 1e-8;
    SGD momentum 0.9 with Nesterov; RMSprop alpha 0.99. Any other keyword the torch optimizer
    accepts may be given; a keyword it does not accept raises ``TypeError`` naming the valid ones.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}. Valid names: {', '.join(sorted(OPTIMIZERS))}")
    cls, defaults = OPTIMIZERS[key]
    accepted = _accepted(cls)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(
            f"create_optimizer({key!r}) got unexpected keyword(s) {unknown}; {cls.__name__} accepts "
            f"{', '.join(accepted)}"
        )
    build: Callable[..., torch.optim.Optimizer] = cls  # a subclass, called with its own keywords
    return build(params, lr=lr, weight_decay=weight_decay, **{**defaults, **kwargs})


def get_lr(optimizer: torch.optim.Optimizer, group: int = 0) -> float:
    """Learning rate of one parameter group (the first by default)."""
    return optimizer.param_groups[group]["lr"]


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr
