"""Plugins change how a step is executed; tasks say what the step computes."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Literal

import torch

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


class Plugin:
    """Base class. Every hook is optional; the Trainer calls them in the order plugins were given.

    Plugins that fill a *role* (precision, accumulation, distribution) subclass the role's base
    class; at most one plugin per role is allowed, so two precision plugins fail before training.
    """

    #: Role name; ``None`` for plugins that only observe the step (clipping, EMA).
    role: str | None = None
    #: Top-level v2 checkpoint section holding this plugin's state ("scaler", "ema"); ``None``
    #: stores it under ``training.plugins[state_key]``.
    checkpoint_section: str | None = None
    #: False for plugins that read or change gradients in a way that needs them at their true
    #: scale but cannot unscale fp16 gradients themselves; fp16 mixed precision refuses them.
    supports_grad_scaling: bool = True

    @property
    def state_key(self) -> str:
        return type(self).__qualname__

    def setup(self, trainer: Trainer) -> None:
        """Validate the combination and prepare (wrap the model, build a scaler...)."""

    def teardown(self, trainer: Trainer) -> None:
        pass

    def on_train_epoch_start(self, trainer: Trainer) -> None:
        pass

    def on_before_optimizer_step(self, trainer: Trainer, optimizer: torch.optim.Optimizer) -> None:
        """Gradients are accumulated and unscaled here (clipping acts here)."""

    def on_after_optimizer_step(self, trainer: Trainer) -> None:
        """The optimizer stepped and gradients were cleared (weight averaging acts here)."""

    def evaluation_context(self, trainer: Trainer) -> contextlib.AbstractContextManager[object]:
        """Context around validation/test/predict (EMA swaps its weights in here)."""
        return contextlib.nullcontext()

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class PrecisionPlugin(Plugin):
    """Role ``precision``: how forward runs (autocast), how backward and the step are scaled."""

    role = "precision"
    checkpoint_section = "scaler"
    #: Name written to the checkpoint config ("32", "16-mixed", "bf16-mixed").
    precision: str = "32"

    def autocast(self) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext()

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    def unscale_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        """Bring gradients to their true scale before anyone inspects or clips them."""

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> bool:
        """Step the optimizer; return False when the step was skipped (fp16 overflow)."""
        optimizer.step()
        return True

    def skip_step(self, optimizer: torch.optim.Optimizer) -> None:
        """The trainer skips this step (non-finite loss); keep internal state consistent."""


class AccumulationPlugin(Plugin):
    """Role ``accumulation``: how many batches make one optimizer step.

    ``partial_window="step"`` (default) steps a short last window of an epoch, scaled by its true
    size. ``"drop"`` reproduces the legacy trainers: the last window is neither stepped nor
    cleared (its gradients leak into the next epoch), every batch is scaled by ``1/k``, and
    gradients are not cleared before the first batch. Only legacy adapters should ask for it.
    """

    role = "accumulation"

    def __init__(self, accumulate_grad_batches: int = 1, partial_window: Literal["step", "drop"] = "step") -> None:
        from pfdtrain.errors import ConfigurationError

        if not isinstance(accumulate_grad_batches, int) or isinstance(accumulate_grad_batches, bool) \
                or accumulate_grad_batches < 1:
            raise ConfigurationError(
                f"accumulate_grad_batches must be an int >= 1, got {accumulate_grad_batches!r}; "
                "use 1 to step after every batch."
            )
        if partial_window not in ("step", "drop"):
            raise ConfigurationError(f"partial_window must be 'step' or 'drop'; received {partial_window!r}.")
        self.accumulate_grad_batches = accumulate_grad_batches
        self.partial_window = partial_window


class DistributedPlugin(Plugin):
    """Role ``distributed``: wraps the model and the data for several processes."""

    role = "distributed"
    rank: int = 0
    world_size: int = 1

    @property
    def is_global_zero(self) -> bool:
        return self.rank == 0

    def unwrap(self, model: torch.nn.Module) -> torch.nn.Module:
        return model

    def reduce_sums(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum a tensor of metric sums/counts over every process (in place allowed)."""
        return tensor

    def prepare_loader(self, loader: Any, shuffle: bool) -> Any:
        return loader
