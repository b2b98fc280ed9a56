"""Knowledge distillation: a frozen teacher guides the student being trained."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from pfdtrain.errors import ConfigurationError
from pfdtrain.tasks.base import StepOutput
from pfdtrain.tasks.classification import ClassificationTask

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


class DistillationTask(ClassificationTask):
    """``loss = α · T² · KL(student/T ‖ teacher/T) + (1 − α) · hard_loss(student, labels)``.

    The teacher is not part of the trained model: it is frozen, kept in eval mode on the
    trainer's device, and never written to checkpoints. Unlike the legacy trainer, the caller's
    teacher is left as it was found after ``fit`` (its ``requires_grad`` flags and mode restored).
    """

    def __init__(self, teacher: nn.Module, temperature: float = 4.0, alpha: float = 0.7,
                 hard_loss: str = "cross_entropy", loss_fn: Callable[..., Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(teacher, nn.Module):
            raise ConfigurationError(f"teacher must be an nn.Module; received {type(teacher).__name__}.")
        if temperature <= 0:
            raise ConfigurationError(f"temperature must be > 0; received {temperature!r}.")
        if not 0.0 <= alpha <= 1.0:
            raise ConfigurationError(f"alpha must be in [0, 1]; received {alpha!r}.")
        self.teacher = teacher
        if loss_fn is None:
            from pfdtrain.losses import DistillationLoss

            loss_fn = DistillationLoss(temperature=temperature, alpha=alpha, hard_loss=hard_loss)
        self.loss_fn = loss_fn
        self._saved: tuple[bool, list[bool]] | None = None

    def setup(self, trainer: Trainer) -> None:
        if any(p is q for p in self.teacher.parameters() for q in trainer.unwrapped_model.parameters()):
            raise ConfigurationError("The teacher shares parameters with the student; pass two separate models.")
        if self._saved is None:
            self._saved = (self.teacher.training, [p.requires_grad for p in self.teacher.parameters()])
        self.teacher.to(trainer.device)
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def restore_teacher(self) -> None:
        """Give the caller's teacher back its mode and ``requires_grad`` flags."""
        if self._saved is None:
            return
        training, flags = self._saved
        self.teacher.train(training)
        for p, flag in zip(self.teacher.parameters(), flags, strict=True):
            p.requires_grad_(flag)
        self._saved = None

    def _step(self, model: nn.Module, batch: Any, transform: Callable[[Any], Any] | None = None) -> StepOutput:
        inputs, targets, extra = self.split_batch(batch)
        if transform is not None:
            inputs = transform(inputs)
        self.teacher.eval()
        with torch.no_grad():
            teacher_logits = self.teacher(inputs)
        student_logits = self.forward(model, inputs, extra)
        loss, parts = self.loss_fn(student_logits, teacher_logits, targets)
        metrics = {"loss": loss.detach()}
        for key in ("soft_loss", "hard_loss"):
            if key in parts:
                value = parts[key]
                metrics[key] = value.detach() if isinstance(value, torch.Tensor) else torch.tensor(float(value))
        metrics["acc"] = (student_logits.detach().argmax(dim=1) == targets).float().mean()
        return StepOutput(
            loss=loss, batch_size=student_logits.shape[0], metrics=metrics, outputs=student_logits.detach()
        )
