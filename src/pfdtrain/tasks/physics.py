"""Physics-informed training: data loss plus weighted physics losses under a lambda schedule."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain.errors import BatchStructureError, ConfigurationError, describe
from pfdtrain.tasks.base import StepOutput
from pfdtrain.tasks.classification import ClassificationTask

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer

PhysicsLoss = Callable[..., torch.Tensor]
SCHEDULES = ("constant", "linear", "exponential", "step")


@dataclass
class LambdaSchedule:
    """Weight of the physics term as a function of training progress ``p = epoch / total_epochs``.

    ``constant``: λ; ``linear``: λ·p; ``exponential``: λ·(1 − e^(−rate·p)); ``step``: 0 before
    ``steps[0]``, λ/2 before ``steps[1]``, then λ. ``total_epochs=None`` uses the trainer's
    ``max_epochs``.
    """

    kind: str = "linear"
    max_value: float = 0.5
    total_epochs: int | None = None
    rate: float = 5.0
    steps: Sequence[float] = field(default=(0.4, 0.7))

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULES:
            raise ConfigurationError(f"lambda schedule must be one of {list(SCHEDULES)}; received {self.kind!r}.")
        if self.max_value < 0:
            raise ConfigurationError(f"the physics weight must be >= 0; received {self.max_value!r}.")

    def value(self, epoch: int, total_epochs: int | None) -> float:
        total = self.total_epochs or total_epochs
        if self.kind == "constant":
            return float(self.max_value)
        if not total:
            raise ConfigurationError(
                f"a {self.kind!r} lambda schedule needs the number of epochs: set max_epochs on the Trainer "
                "or LambdaSchedule(total_epochs=...)."
            )
        p = epoch / total
        if self.kind == "linear":
            return float(self.max_value * min(p, 1.0))
        if self.kind == "exponential":
            return float(self.max_value * (1.0 - math.exp(-self.rate * p)))
        if p < self.steps[0]:
            return 0.0
        return float(self.max_value / 2) if p < self.steps[1] else float(self.max_value)


class PhysicsInformedTask(ClassificationTask):
    """``loss = data_loss + λ(epoch) · Σ weight_i · physics_i(signal, logits, metadata)``.

    Batches are ``(x, y)``, ``(x, y, metadata_dict)`` or ``(x, y, rpm_tensor)``; metadata is
    filtered to ``metadata_keys`` and, when the model's forward takes a second argument, passed
    to it. Each physics loss is logged on its own (``physics/<name>``) next to ``data_loss``,
    the λ-free ``physics_loss`` sum and the current ``lambda``. Physics terms are computed only
    while λ > 0, so a schedule starting at 0 costs nothing in its first epochs.
    """

    def __init__(
        self,
        physics_losses: Mapping[str, PhysicsLoss | tuple[PhysicsLoss, float]],
        schedule: LambdaSchedule | float = 0.5,
        criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        metadata_keys: Sequence[str] = ("rpm", "load", "viscosity"),
        pass_metadata_to_model: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(criterion=criterion, **kwargs)
        if not physics_losses:
            raise ConfigurationError("PhysicsInformedTask needs at least one physics loss, e.g. {'freq': loss_fn}.")
        self.physics_losses: dict[str, tuple[PhysicsLoss, float]] = {}
        for name, spec in physics_losses.items():
            fn, weight = spec if isinstance(spec, tuple) else (spec, 1.0)
            if not callable(fn):
                raise ConfigurationError(f"physics loss {name!r} is not callable; received {type(fn).__name__}.")
            self.physics_losses[name] = (fn, float(weight))
        if not isinstance(schedule, LambdaSchedule):
            schedule = LambdaSchedule("constant", float(schedule))
        self.schedule = schedule
        self.metadata_keys = tuple(metadata_keys)
        self.pass_metadata_to_model = pass_metadata_to_model
        self.current_lambda = 0.0 if self.schedule.kind != "constant" else float(self.schedule.max_value)
        self._arg_kinds: dict[int, str] = {}

    def setup(self, trainer: Trainer) -> None:
        if self.pass_metadata_to_model is None:
            model = trainer.unwrapped_model
            params = [p for p in inspect.signature(model.forward).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            self.pass_metadata_to_model = len(params) >= 2

    def on_train_epoch_start(self, trainer: Trainer) -> None:
        self.current_lambda = self.schedule.value(trainer.current_epoch, trainer.max_epochs)

    def metadata(self, extra: tuple[Any, ...]) -> dict[str, torch.Tensor] | None:
        if not extra:
            return None
        first = extra[0]
        if isinstance(first, Mapping):
            meta = {k: first[k] for k in self.metadata_keys if k in first and first[k] is not None}
        elif isinstance(first, torch.Tensor):
            meta = {"rpm": first}
        else:
            raise BatchStructureError(
                f"PhysicsInformedTask expected the third batch item to be a metadata dict or an rpm tensor; "
                f"received {describe(first)}."
            )
        return meta or None

    def forward(self, model: nn.Module, inputs: Any, extra: tuple[Any, ...]) -> torch.Tensor:
        meta = self.metadata(extra)
        if meta is not None and self.pass_metadata_to_model:
            return model(inputs, meta)
        return model(inputs)

    def _step(self, model: nn.Module, batch: Any, transform: Callable[[Any], Any] | None = None) -> StepOutput:
        inputs, targets, extra = self.split_batch(batch)
        if transform is not None:
            inputs = transform(inputs)
        meta = self.metadata(extra)
        logits = model(inputs, meta) if meta is not None and self.pass_metadata_to_model else model(inputs)
        data_loss = self.criterion(logits, targets) if self.criterion is not None else F.cross_entropy(logits, targets)
        metrics: dict[str, torch.Tensor] = {"data_loss": data_loss.detach()}
        loss = data_loss
        lam = self.current_lambda
        physics_total = torch.zeros((), device=data_loss.device)
        if lam > 0:
            for name, (fn, weight) in self.physics_losses.items():
                value = self._call(fn, inputs, logits, meta)
                metrics[f"physics/{name}"] = value.detach()
                physics_total = physics_total + weight * value
            loss = data_loss + lam * physics_total
        metrics["physics_loss"] = physics_total.detach()
        metrics["loss"] = loss.detach()
        metrics["lambda"] = torch.tensor(lam, device=data_loss.device)
        hard = targets.argmax(dim=1) if targets.dim() == 2 else targets
        metrics["acc"] = (logits.detach().argmax(dim=1) == hard).float().mean()
        return StepOutput(loss=loss, batch_size=logits.shape[0], metrics=metrics, outputs=logits.detach())

    def _call(self, fn: PhysicsLoss, signal: torch.Tensor, logits: torch.Tensor,
              meta: dict[str, torch.Tensor] | None) -> torch.Tensor:
        """Call ``fn(signal, logits, <third>)`` where the third argument is what ``fn`` asks for.

        A loss whose third parameter is named ``rpm`` (pfdtrain.physics' losses) gets the
        per-sample rpm; anything else gets the metadata dict.
        """
        kind = self._arg_kinds.get(id(fn))
        if kind is None:
            try:
                target = fn.forward if isinstance(fn, nn.Module) else fn
                params = list(inspect.signature(target).parameters)
            except (TypeError, ValueError):
                params = []
            kind = "rpm" if len(params) >= 3 and params[2] == "rpm" else "metadata"
            self._arg_kinds[id(fn)] = kind
        if kind == "rpm":
            return fn(signal, logits, None if meta is None else meta.get("rpm"))
        return fn(signal, logits, meta)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "current_lambda": self.current_lambda}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.current_lambda = float(state.get("current_lambda", self.current_lambda))
