"""Learning-rate schedulers as regular ``torch.optim.lr_scheduler.LRScheduler`` subclasses.

Each can be stepped per epoch or per optimizer step, and its ``state_dict`` is plain data
(numbers, lists), so it goes into a weights-only checkpoint.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from pfdtrain.optim.factors import noam_factor, warmup_cosine_factor, warmup_linear_factor


class _FactorLR(LRScheduler):
    """``lr = base_lr * factor(last_epoch)`` (closed form, like ``LambdaLR``)."""

    def factor(self, step: int) -> float:
        raise NotImplementedError

    def get_lr(self) -> list[float | torch.Tensor]:
        f = self.factor(self.last_epoch)
        return [base_lr * f for base_lr in self.base_lrs]

    _get_closed_form_lr = get_lr


class WarmupCosineLR(_FactorLR):
    """Linear warm-up over ``warmup_steps`` then cosine decay to ``min_lr_ratio * base_lr``.

    ``clamp=True`` holds the minimum after ``total_steps``; ``False`` follows the cosine back up.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int,
                 min_lr_ratio: float = 0.0, clamp: bool = True, last_epoch: int = -1) -> None:
        if clamp and not 0 <= warmup_steps <= total_steps:
            raise ValueError(f"need 0 <= warmup_steps <= total_steps, got {warmup_steps} and {total_steps}")
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_lr_ratio = min_lr_ratio
        self.clamp = clamp
        super().__init__(optimizer, last_epoch)

    def factor(self, step: int) -> float:
        return warmup_cosine_factor(step, self.warmup_steps, self.total_steps, self.min_lr_ratio, self.clamp)


class WarmupLinearLR(_FactorLR):
    """Linear warm-up then linear decay to ``min_lr_ratio * base_lr`` at ``total_steps`` (held)."""

    def __init__(self, optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int,
                 min_lr_ratio: float = 0.0, last_epoch: int = -1) -> None:
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_lr_ratio = min_lr_ratio
        super().__init__(optimizer, last_epoch)

    def factor(self, step: int) -> float:
        return warmup_linear_factor(step, self.warmup_steps, self.total_steps, self.min_lr_ratio)


class NoamLR(_FactorLR):
    """"Attention is all you need" schedule; multiplies the optimizer's lr (usually 1.0)."""

    def __init__(self, optimizer: torch.optim.Optimizer, d_model: int, warmup_steps: int = 4000,
                 scale: float = 1.0, last_epoch: int = -1) -> None:
        self.d_model = d_model
        self.warmup_steps = warmup_steps
        self.scale = scale
        super().__init__(optimizer, last_epoch)

    def factor(self, step: int) -> float:
        return noam_factor(step, self.d_model, self.warmup_steps, self.scale)


class PolynomialDecayLR(LRScheduler):
    """``end_lr + (base_lr - end_lr) * (1 - t / total_steps)^power``, then ``end_lr``."""

    def __init__(self, optimizer: torch.optim.Optimizer, total_steps: int, power: float = 1.0,
                 end_lr: float = 0.0, last_epoch: int = -1) -> None:
        self.total_steps = total_steps
        self.power = power
        self.end_lr = end_lr
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | torch.Tensor]:
        if self.last_epoch >= self.total_steps:
            return [self.end_lr for _ in self.base_lrs]
        decay = (1 - self.last_epoch / self.total_steps) ** self.power
        return [self.end_lr + (base_lr - self.end_lr) * decay for base_lr in self.base_lrs]

    _get_closed_form_lr = get_lr


class LinearWarmup(LRScheduler):
    """``base_lr * (t + 1) / warmup_steps`` for ``t < warmup_steps``, then the ``after`` schedule.

    The first lr (right after construction) is already ``base_lr / warmup_steps``, and the
    warm-up ends at ``base_lr``, which is also ``after``'s epoch 0, so the schedule is continuous:
    after step ``t >= warmup_steps`` the lr is ``after``'s value at its epoch
    ``t - warmup_steps + 1``. ``after`` must be built first, on the same optimizer.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, warmup_steps: int,
                 after: LRScheduler | None = None, last_epoch: int = -1) -> None:
        if isinstance(after, ReduceLROnPlateau):
            raise TypeError("LinearWarmup(after=...) needs a scheduler stepped without a metric, "
                            "not ReduceLROnPlateau; step the plateau scheduler separately")
        self.warmup_steps = warmup_steps
        self.after = after
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | torch.Tensor]:
        if self.last_epoch < self.warmup_steps:
            return [base_lr * (self.last_epoch + 1) / self.warmup_steps for base_lr in self.base_lrs]
        if self.after is not None:
            # Reset the groups to after's last value: recursive torch schedulers read them.
            return list(self.after.get_last_lr())
        return list(self.base_lrs)

    def step(self, epoch: int | None = None) -> None:
        super().step(epoch)
        if self.after is not None and self.last_epoch >= self.warmup_steps:
            self.after.step()
            self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in super().state_dict().items() if k != "after"}
        state["after"] = None if self.after is None else self.after.state_dict()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        after_state = state.pop("after", None)
        self.__dict__.update(state)
        if self.after is not None and after_state is not None:
            self.after.load_state_dict(after_state)
