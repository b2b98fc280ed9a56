"""Gradient clipping by norm or by value, once per optimizer step, after unscaling."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins.base import Plugin

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


class GradientClipping(Plugin):
    """Clip to ``max_norm`` (total norm) or ``max_value`` (each element).

    The pre-clip total norm is left in ``trainer.grad_norm`` (a device tensor: reading it syncs,
    so callbacks and loggers read it at their own rate).
    """

    def __init__(self, max_norm: float | None = None, max_value: float | None = None, norm_type: float = 2.0) -> None:
        if (max_norm is None) == (max_value is None):
            raise ConfigurationError(
                "GradientClipping needs exactly one of max_norm (clip the total norm) or max_value "
                f"(clip each element); received max_norm={max_norm!r}, max_value={max_value!r}."
            )
        for name, value in (("max_norm", max_norm), ("max_value", max_value)):
            if value is not None and not value > 0:
                raise ConfigurationError(f"{name} must be > 0; received {value!r}.")
        self.max_norm = max_norm
        self.max_value = max_value
        self.norm_type = float(norm_type)

    def on_before_optimizer_step(self, trainer: Trainer, optimizer: torch.optim.Optimizer) -> None:
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not params:
            return
        if self.max_norm is not None:
            trainer.grad_norm = torch.nn.utils.clip_grad_norm_(params, self.max_norm, self.norm_type)
        elif self.max_value is not None:  # exactly one of the two is set (checked in __init__)
            grads = [p.grad for p in params]
            trainer.grad_norm = torch.nn.utils.get_total_norm(grads, self.norm_type)
            torch.nn.utils.clip_grad_value_(params, self.max_value)
