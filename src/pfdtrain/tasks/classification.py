"""Classification: cross-entropy by default, accuracy as a fraction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain.errors import BatchStructureError, describe
from pfdtrain.tasks.base import StepOutput, Task

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer

_INPUT_KEYS = ("x", "inputs", "input", "signal", "signals")
_TARGET_KEYS = ("y", "target", "targets", "label", "labels")


class ClassificationTask(Task):
    """Batches are ``(x, y)``, ``(x, y, extra...)`` or dicts; logits ``[B, K]`` against labels ``[B]``.

    ``extra`` items (metadata such as rpm) are ignored here; tasks that need them (physics) read
    them. Soft labels ``[B, K]`` are accepted by the default criterion; accuracy then compares with
    their argmax.
    """

    def __init__(
        self,
        criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        input_key: str | None = None,
        target_key: str | None = None,
        train_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        eval_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        #: ``None`` means cross-entropy (called functionally: cheaper than the module per batch).
        self.criterion = criterion
        self.input_key = input_key
        self.target_key = target_key
        #: Applied to the inputs of training batches on the device (SpecAugment, resizing...).
        self.train_transform = train_transform
        #: Applied to the inputs of validation/test/predict batches (resizing, normalisation...).
        self.eval_transform = eval_transform

    def split_batch(self, batch: Any) -> tuple[Any, torch.Tensor, tuple[Any, ...]]:
        """Return ``(inputs, targets, extra)``; raise a BatchStructureError naming what was received."""
        if type(batch) in (list, tuple) and len(batch) >= 2:  # the common case, checked cheaply
            return batch[0], batch[1], tuple(batch[2:])
        if isinstance(batch, Mapping):
            x_key = self.input_key or next((k for k in _INPUT_KEYS if k in batch), None)
            y_key = self.target_key or next((k for k in _TARGET_KEYS if k in batch), None)
            if x_key not in batch or y_key not in batch:
                raise BatchStructureError(
                    f"{type(self).__name__} received a dict batch with keys {sorted(map(str, batch))} "
                    f"but needs an input key (one of {list(_INPUT_KEYS)}) and a target key (one of "
                    f"{list(_TARGET_KEYS)}). Pass ClassificationTask(input_key=..., target_key=...) "
                    "to name yours."
                )
            extra = tuple(v for k, v in batch.items() if k not in (x_key, y_key))
            return batch[x_key], batch[y_key], extra
        if isinstance(batch, Sequence) and not isinstance(batch, (str, bytes)) and len(batch) >= 2:
            return batch[0], batch[1], tuple(batch[2:])
        raise BatchStructureError(
            f"{type(self).__name__} expected a batch (inputs, targets), (inputs, targets, extra...) or "
            f"a dict with input and target keys, but received {describe(batch)}. Make the Dataset "
            "return (signal, label) pairs, or give the Trainer a Task that understands this batch."
        )

    def forward(self, model: nn.Module, inputs: Any, extra: tuple[Any, ...]) -> torch.Tensor:
        return model(inputs)

    def _step(self, model: nn.Module, batch: Any, transform: Callable[[Any], Any] | None = None) -> StepOutput:
        inputs, targets, extra = self.split_batch(batch)
        if transform is not None:
            inputs = transform(inputs)
        logits = self.forward(model, inputs, extra)
        try:
            loss = self.criterion(logits, targets) if self.criterion is not None else F.cross_entropy(logits, targets)
            hard = targets.argmax(dim=1) if targets.dim() == 2 else targets
            detached = logits.detach()
            acc = (detached.argmax(dim=1) == hard).float().mean()
        except (RuntimeError, ValueError, IndexError, AttributeError, TypeError) as exc:
            self._diagnose(logits, targets)  # raises a clear error when the shapes are the cause
            raise exc
        return StepOutput(
            loss=loss,
            batch_size=logits.shape[0],
            metrics={"loss": loss.detach(), "acc": acc},
            outputs=detached,
        )

    @staticmethod
    def _diagnose(logits: Any, targets: Any) -> None:
        if (
            not isinstance(logits, torch.Tensor)
            or not isinstance(targets, torch.Tensor)
            or logits.dim() != 2
            or targets.shape[0] != logits.shape[0]
            or not (targets.dim() == 1 or (targets.dim() == 2 and targets.shape == logits.shape))
        ):
            raise BatchStructureError(
                f"Model output {describe(logits)} and targets {describe(targets)} do not fit a "
                "classification task: expected logits [B, num_classes] and labels [B] (or soft "
                "labels [B, num_classes])."
            )

    def training_step(self, model: nn.Module, batch: Any, trainer: Trainer) -> StepOutput:
        return self._step(model, batch, self.train_transform)

    def validation_step(self, model: nn.Module, batch: Any, trainer: Trainer) -> StepOutput:
        return self._step(model, batch, self.eval_transform)

    def predict_step(self, model: nn.Module, batch: Any, trainer: Trainer) -> torch.Tensor:
        if isinstance(batch, torch.Tensor):
            return model(self.eval_transform(batch) if self.eval_transform else batch)
        inputs, _targets, extra = self.split_batch(batch) if not (
            isinstance(batch, Sequence) and len(batch) == 1
        ) else (batch[0], None, ())
        if self.eval_transform is not None:
            inputs = self.eval_transform(inputs)
        return self.forward(model, inputs, extra)

    def state_dict(self) -> dict[str, Any]:
        """RNG state of random input transforms (SpecAugment...), so a resume draws the same masks."""
        state: dict[str, Any] = {}
        for name in ("train_transform", "eval_transform"):
            gen = getattr(getattr(self, name), "generator", None)
            if isinstance(gen, torch.Generator):
                state[f"{name}_rng"] = gen.get_state()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name in ("train_transform", "eval_transform"):
            gen = getattr(getattr(self, name), "generator", None)
            if f"{name}_rng" in state and isinstance(gen, torch.Generator):
                gen.set_state(state[f"{name}_rng"])

