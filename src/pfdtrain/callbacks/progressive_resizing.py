"""Progressive resizing: train on short signals first, then longer ones, on one schedule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pfdtrain.augment.resize import Resize
from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


class ProgressiveResizing(Callback):
    """``schedule = [(length, epochs), ...]``: the first ``epochs`` epochs use ``length``, and so on.

    Sets the task's train and eval transforms to :class:`~pfdtrain.augment.Resize` at the start of
    every epoch (the task must be a ClassificationTask or subclass). The length is a function of
    the epoch alone, so a resumed run picks the right stage without extra state. Epochs past the
    schedule keep its last length.
    """

    def __init__(self, schedule: Sequence[tuple[int, int]], method: str = "interpolate") -> None:
        if not schedule or any(len(s) != 2 or s[0] < 1 or s[1] < 1 for s in schedule):
            raise ConfigurationError(
                "schedule must be a non-empty list of (length, epochs) pairs with positive values; "
                f"received {schedule!r}."
            )
        self.schedule = [(int(length), int(epochs)) for length, epochs in schedule]
        self.method = method
        Resize(1, method)  # validates the method name now, not at epoch 1

    @property
    def total_epochs(self) -> int:
        return sum(epochs for _, epochs in self.schedule)

    def length_at(self, epoch: int) -> int:
        end = 0
        for length, epochs in self.schedule:
            end += epochs
            if epoch < end:
                return length
        return self.schedule[-1][0]

    def stage_at(self, epoch: int) -> int:
        end = 0
        for i, (_, epochs) in enumerate(self.schedule):
            end += epochs
            if epoch < end:
                return i
        return len(self.schedule) - 1

    def on_fit_start(self, trainer: Trainer) -> None:
        if not hasattr(trainer.task, "train_transform"):
            raise ConfigurationError(
                f"ProgressiveResizing needs a task with train_transform/eval_transform (ClassificationTask "
                f"or a subclass); the trainer has {type(trainer.task).__name__}."
            )

    def on_train_epoch_start(self, trainer: Trainer) -> None:
        resize = Resize(self.length_at(trainer.current_epoch), self.method)
        task: Any = trainer.task  # any task with these two attributes (checked in on_fit_start)
        task.train_transform = resize
        task.eval_transform = resize
        trainer.callback_metrics["signal_length"] = float(resize.length)
