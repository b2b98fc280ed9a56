"""Decay / no-decay parameter groups decided by module type, not by parameter name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn
from torch.nn.modules.batchnorm import _NormBase

#: Modules whose parameters are never weight-decayed (scales and shifts of normalisations).
NORM_TYPES: tuple[type[nn.Module], ...] = tuple(
    t for t in (_NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm, getattr(nn, "RMSNorm", None))
    if t is not None
)

#: ``no_decay(qualified_name, parameter, owning_module) -> bool``
NoDecayRule = Callable[[str, nn.Parameter, nn.Module], bool]


def default_no_decay(name: str, param: nn.Parameter, module: nn.Module) -> bool:
    """Biases and parameters of normalisation layers (BatchNorm/LayerNorm/GroupNorm/...)."""
    return name.rsplit(".", 1)[-1] == "bias" or isinstance(module, NORM_TYPES)


def parameter_groups(
    model: nn.Module,
    weight_decay: float = 1e-4,
    lr: float | None = None,
    *,
    no_decay: NoDecayRule = default_no_decay,
    keep_empty: bool = False,
) -> list[dict[str, Any]]:
    """``[{'params': decayed, 'weight_decay': wd}, {'params': others, 'weight_decay': 0.0}]``.

    Frozen parameters (``requires_grad=False``) are left out; each group gets ``lr`` when given.
    Empty groups are dropped unless ``keep_empty``. Shared parameters are listed once.
    """
    decay: list[nn.Parameter] = []
    plain: list[nn.Parameter] = []
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        for param_name, param in module.named_parameters(recurse=False):
            if not param.requires_grad or id(param) in seen:
                continue
            seen.add(id(param))
            full = f"{module_name}.{param_name}" if module_name else param_name
            (plain if no_decay(full, param, module) else decay).append(param)
    extra = {} if lr is None else {"lr": lr}
    groups = [
        {"params": decay, **extra, "weight_decay": weight_decay},
        {"params": plain, **extra, "weight_decay": 0.0},
    ]
    return groups if keep_empty else [g for g in groups if g["params"]]
