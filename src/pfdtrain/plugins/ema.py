"""Exponential moving average of the weights, kept on the model's device and checkpointed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import torch

from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins.base import Plugin

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


class EMA(Plugin):
    """``ema = decay_t * ema + (1 - decay_t) * weights`` after every ``update_every`` optimizer steps.

    With ``warmup=True`` the decay ramps up as ``min(decay, (1 + n) / (10 + n))`` so early
    averages are not dominated by the random initialisation. Floating-point buffers (BatchNorm
    running statistics) are averaged too; integer buffers are copied.

    ``use_for_validation`` swaps the averaged weights in for validation, test and predict.
    ``export_ema_weights`` writes the averaged weights as the checkpoint's ``model.state_dict``
    (what evaluation scripts read, e.g. the best model) and keeps the training weights under
    ``ema.training_state_dict`` so that a resume is still exact.
    """

    checkpoint_section = "ema"

    def __init__(self, decay: float = 0.999, warmup: bool = True, update_every: int = 1,
                 use_for_validation: bool = True, export_ema_weights: bool = False) -> None:
        if not 0.0 < decay < 1.0:
            raise ConfigurationError(f"EMA decay must be in (0, 1), e.g. 0.999; received {decay!r}.")
        if not isinstance(update_every, int) or update_every < 1:
            raise ConfigurationError(f"EMA update_every must be an int >= 1; received {update_every!r}.")
        self.decay = decay
        self.warmup = warmup
        self.update_every = update_every
        self.use_for_validation = use_for_validation
        self.export_ema_weights = export_ema_weights
        self.num_updates = 0
        self.shadow: dict[str, torch.Tensor] = {}
        self._model: torch.nn.Module | None = None
        self._pending: dict[str, Any] | None = None

    def setup(self, trainer: Trainer) -> None:
        model = trainer.unwrapped_model
        if self._model is not model or not self.shadow:
            self._model = model
            self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if self._pending is not None:
            self._load(self._pending)
            self._pending = None

    def current_decay(self) -> float:
        if not self.warmup:
            return self.decay
        return min(self.decay, (1.0 + self.num_updates) / (10.0 + self.num_updates))

    @torch.no_grad()
    def on_after_optimizer_step(self, trainer: Trainer) -> None:
        if trainer.global_step % self.update_every != 0:
            return
        decay = self.current_decay()
        state = trainer.unwrapped_model.state_dict()
        floats_ema, floats_new = [], []
        for key, shadow in self.shadow.items():
            value = state[key]
            if shadow.is_floating_point():
                floats_ema.append(shadow)
                floats_new.append(value.detach())
            else:
                shadow.copy_(value)
        if floats_ema:
            torch._foreach_lerp_(floats_ema, floats_new, 1.0 - decay)
        self.num_updates += 1

    @contextlib.contextmanager
    def averaged_weights(self, model: torch.nn.Module) -> Iterator[None]:
        """Temporarily load the averaged weights into ``model``."""
        backup = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(self.shadow)
        try:
            yield
        finally:
            model.load_state_dict(backup)

    def evaluation_context(self, trainer: Trainer) -> contextlib.AbstractContextManager[Any]:
        if not self.use_for_validation or not self.shadow:
            return contextlib.nullcontext()
        return self.averaged_weights(trainer.unwrapped_model)

    def state_dict(self) -> dict[str, Any]:
        return {
            "decay": self.decay,
            "num_updates": self.num_updates,
            "shadow": {k: v.detach().clone() for k, v in self.shadow.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self._model is None:
            self._pending = dict(state)
        else:
            self._load(state)

    def _load(self, state: dict[str, Any]) -> None:
        self.num_updates = int(state["num_updates"])
        for key, value in state["shadow"].items():
            if key in self.shadow:
                self.shadow[key].copy_(value)
            else:
                self.shadow[key] = value.clone()
