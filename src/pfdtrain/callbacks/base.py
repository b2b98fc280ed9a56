"""The one callback protocol: observe the loop, control it only through ``trainer.should_stop``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from pfdtrain.tasks.base import StepOutput
    from pfdtrain.trainer.trainer import Trainer

#: Every hook, in the order a plain fit() first meets them. ``tests/callbacks`` pins the sequence.
HOOKS: tuple[str, ...] = (
    "on_fit_start",
    "on_train_epoch_start",
    "on_train_batch_start",
    "on_before_backward",
    "on_before_optimizer_step",
    "on_train_batch_end",
    "on_validation_start",
    "on_validation_batch_start",
    "on_validation_batch_end",
    "on_validation_end",
    "on_train_epoch_end",
    "on_save_checkpoint",
    "on_load_checkpoint",
    "on_fit_end",
    "on_exception",
)


C = TypeVar("C")


class Callback:
    """Base class: override the hooks you need; every hook receives the trainer first.

    A callback reads trainer state (``trainer.current_epoch``, ``trainer.global_step``,
    ``trainer.callback_metrics``...) and may set ``trainer.should_stop = True``; it never runs a
    loop of its own. State returned by :meth:`state_dict` is saved in v2 checkpoints under
    :attr:`state_key` and handed back to :meth:`load_state_dict` on resume.
    """

    @property
    def state_key(self) -> str:
        """Key of this callback's state in a checkpoint; unique per class and configuration."""
        return type(self).__qualname__

    def _generate_state_key(self, **fields: Any) -> str:
        """State key that distinguishes two instances of one class configured differently."""
        return f"{type(self).__qualname__}{dict(sorted(fields.items()))!r}"

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def on_fit_start(self, trainer: Trainer) -> None:
        pass

    def on_fit_end(self, trainer: Trainer) -> None:
        pass

    def on_train_epoch_start(self, trainer: Trainer) -> None:
        pass

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        """Called after validation; ``trainer.callback_metrics`` holds this epoch's metrics."""

    def on_train_batch_start(self, trainer: Trainer, batch: Any, batch_idx: int) -> None:
        pass

    def on_train_batch_end(
        self, trainer: Trainer, outputs: StepOutput, batch: Any, batch_idx: int
    ) -> None:
        pass

    def on_before_backward(self, trainer: Trainer, loss: torch.Tensor) -> None:
        pass

    def on_before_optimizer_step(
        self, trainer: Trainer, optimizer: torch.optim.Optimizer
    ) -> None:
        """Gradients are final here: unscaled, accumulated and clipped."""

    def on_validation_start(self, trainer: Trainer) -> None:
        pass

    def on_validation_batch_start(self, trainer: Trainer, batch: Any, batch_idx: int) -> None:
        pass

    def on_validation_batch_end(
        self, trainer: Trainer, outputs: StepOutput, batch: Any, batch_idx: int
    ) -> None:
        pass

    def on_validation_end(self, trainer: Trainer) -> None:
        pass

    def on_save_checkpoint(self, trainer: Trainer, checkpoint: dict[str, Any]) -> None:
        """May add plain data under ``checkpoint["extra"]``; the callback's own state is saved anyway."""

    def on_load_checkpoint(self, trainer: Trainer, checkpoint: dict[str, Any]) -> None:
        pass

    def on_exception(self, trainer: Trainer, exception: BaseException) -> None:
        pass


def _overrides(cb: Callback, hook: str) -> bool:
    return hook in vars(cb) or getattr(type(cb), hook, None) is not getattr(Callback, hook)


class CallbackList:
    """Dispatches a hook to each callback in the order the callbacks were given."""

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks: list[Callback] = list(callbacks)
        keys = [cb.state_key for cb in self.callbacks]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(
                f"Two callbacks share the checkpoint state_key {duplicates}; their states would "
                "overwrite each other. Give them different configurations or override state_key."
            )

        # Only hooks a callback overrides are dispatched: an empty hook costs nothing per batch.
        self._dispatch: dict[str, list[Any]] = {
            hook: [getattr(cb, hook) for cb in self.callbacks if _overrides(cb, hook)] for hook in HOOKS
        }

    def call(self, hook: str, trainer: Trainer, *args: Any) -> None:
        for fn in self._dispatch[hook]:
            fn(trainer, *args)

    def state_dict(self) -> dict[str, dict[str, Any]]:
        return {cb.state_key: cb.state_dict() for cb in self.callbacks}

    def load_state_dict(self, states: dict[str, dict[str, Any]]) -> None:
        for cb in self.callbacks:
            if cb.state_key in states:
                cb.load_state_dict(states[cb.state_key])

    def of_type(self, cls: type[C]) -> list[C]:
        return [cb for cb in self.callbacks if isinstance(cb, cls)]

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)
