"""A task says what a batch means and what the loss is; the Trainer says how a step runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


@dataclass(slots=True)
class StepOutput:
    """What one training or validation step produced.

    ``metrics`` hold per-batch *means* as 0-d tensors on the device; the trainer weights them by
    ``batch_size`` and averages over the epoch without a host synchronisation per batch.
    """

    loss: torch.Tensor
    batch_size: int
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)
    outputs: Any = None


def move_to_device(obj: Any, device: torch.device, non_blocking: bool = False) -> Any:
    """Recursively move tensors in tuples, lists and dicts; everything else is returned as is."""
    if isinstance(obj, torch.Tensor):
        return obj if obj.device == device else obj.to(device, non_blocking=non_blocking)
    if type(obj) in (list, tuple):
        return type(obj)([move_to_device(v, device, non_blocking) for v in obj])
    if isinstance(obj, Mapping):
        moved = {k: move_to_device(v, device, non_blocking) for k, v in obj.items()}
        if type(obj) is dict:
            return moved
        mapping_type: Any = type(obj)  # a Mapping subclass rebuilt from a dict, e.g. OrderedDict
        return mapping_type(moved)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(move_to_device(v, device, non_blocking) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(move_to_device(v, device, non_blocking) for v in obj)
    return obj


class Task:
    """Base class for tasks. Subclasses implement :meth:`training_step` and :meth:`validation_step`."""

    #: Name of the checkpoint entry holding this task's state.
    state_key: str = "task"

    def setup(self, trainer: Trainer) -> None:
        """Called once at the start of fit/validate/test/predict, after the model is on its device."""

    def transfer_batch(self, batch: Any, device: torch.device) -> Any:
        if device.type == "cpu":  # DataLoader batches are CPU tensors already: nothing to move
            return batch
        return move_to_device(batch, device, non_blocking=device.type == "cuda")

    def training_step(self, model: nn.Module, batch: Any, trainer: Trainer) -> StepOutput:
        raise NotImplementedError

    def validation_step(self, model: nn.Module, batch: Any, trainer: Trainer) -> StepOutput:
        return self.training_step(model, batch, trainer)

    def predict_step(self, model: nn.Module, batch: Any, trainer: Trainer) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement predict_step")

    def on_train_epoch_start(self, trainer: Trainer) -> None:
        """Schedules that depend on the epoch (physics lambda, signal length) update here."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass
