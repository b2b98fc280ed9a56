"""What a NaN or inf loss does to a run: the Trainer's ``on_nonfinite`` policy.

Checking every loss as it comes would make each step wait for the device. So ``"raise"`` and
``"stop"`` keep the losses (as device tensors) and check them in one go every
``log_every_n_steps`` optimizer steps and at the end of each epoch; an epoch whose logged loss
mean is finite needs no check at all (a mean is finite only if every term was). ``"skip"`` must
decide before the step it would skip, so it reads each loss at once; ``"ignore"`` checks nothing.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Literal, TypeAlias

import torch

from pfdtrain.errors import ConfigurationError, NonFiniteLossError

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer

NONFINITE_POLICIES = ("raise", "skip", "stop", "ignore")
NonFinitePolicy: TypeAlias = Literal["raise", "skip", "stop", "ignore"]


def check_policy(policy: str) -> str:
    if policy not in NONFINITE_POLICIES:
        raise ConfigurationError(f"on_nonfinite must be one of {list(NONFINITE_POLICIES)}; received {policy!r}.")
    return policy


class NonFiniteGuard:
    """Applies one ``on_nonfinite`` policy to the losses of a Trainer's steps."""

    def __init__(self, policy: str) -> None:
        self.policy = check_policy(policy)
        self._recent: list[tuple[torch.Tensor, int, int]] = []
        #: True while every kept loss is also the task's logged ``loss`` metric, so that a finite
        #: epoch mean of that metric proves every kept loss finite.
        self._all_logged = True

    def check(self, trainer: Trainer, loss: torch.Tensor, detached: torch.Tensor | None) -> None:
        """Called once per batch; ``detached`` is the task's logged copy of the loss, if any."""
        if not isinstance(loss, torch.Tensor):
            raise ConfigurationError(
                f"{type(trainer.task).__name__}.training_step returned a loss of type "
                f"{type(loss).__name__}; it must be a tensor that requires grad."
            )
        if self.policy == "ignore":
            return
        if self.policy == "skip":  # deciding per step needs the value now
            value = float(loss.detach())
            if not math.isfinite(value):
                self._handle(trainer, value, trainer.global_step, trainer.batch_idx)
            return
        if detached is None:
            detached = loss.detach()
            self._all_logged = False
        self._recent.append((detached, trainer.global_step, trainer.batch_idx))

    def end_epoch(self, trainer: Trainer, logged_loss_mean: float) -> None:
        """At the end of a training epoch: no device read when the logged mean already proves it."""
        if self._all_logged and math.isfinite(logged_loss_mean):
            self._recent = []
        else:
            self.flush(trainer)

    def flush(self, trainer: Trainer) -> None:
        """Check the losses kept since the last flush in one go (one device read)."""
        recent, self._recent = self._recent, []
        if not recent:
            return
        try:
            finite = torch.isfinite(torch.stack([loss for loss, _, _ in recent]))
        except RuntimeError:  # losses of mixed shapes/dtypes
            finite = torch.isfinite(torch.stack([loss.reshape(()).float() for loss, _, _ in recent]))
        if bool(finite.all()):
            return
        first = int((~finite.reshape(len(recent))).nonzero()[0])
        loss, step, batch_idx = recent[first]
        self._handle(trainer, float(loss), step, batch_idx)

    def _handle(self, trainer: Trainer, value: float, step: int, batch_idx: int) -> None:
        where = f"epoch {trainer.current_epoch}, batch {batch_idx} (optimizer step {step})"
        if self.policy == "raise":
            raise NonFiniteLossError(
                f"The loss is {value} at {where}. Lower the learning rate, enable gradient clipping, "
                "check the inputs for NaN, or pass on_nonfinite='skip' (skip such steps) or 'stop' "
                "(end training cleanly)."
            )
        if self.policy == "skip":
            trainer.skip_next_optimizer_step = True
            warnings.warn(f"Non-finite loss ({value}) at {where}: skipping this optimizer step.", stacklevel=3)
        else:
            warnings.warn(f"Non-finite loss ({value}) at {where}: stopping training.", stacklevel=3)
            trainer.should_stop = True
