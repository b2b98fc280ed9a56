"""Legacy ``training.knowledge_distillation``: ``DistillationLoss``, ``DistillationTrainer`` and
``compare_teacher_student``.

Kept quirks: the loss returns ``(tensor, {'soft_loss', 'hard_loss', 'total_loss'} as floats)``
and does not detach the teacher logits; ``compare_teacher_student`` reports percentages and counts
"agreement" as *both correct*. ``DistillationTrainer`` is a configuration of the core
:class:`pfdtrain.Trainer` (student as the model, the teacher run by the task); it freezes and
``eval()``s the caller's teacher in its constructor, averages batch means, steps the scheduler
once per epoch and saves nothing. For new code: ``pfdtrain.tasks.DistillationTask``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from pfdtrain.compat import _bridge as B
from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, Dict, Optional, Tuple, get_logger
from pfdtrain.losses.distillation import HARD_LOSSES, distillation_loss

__all__ = [
    # module-level names of the legacy module (served as training.knowledge_distillation.<name>)
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "DataLoader",
    "Dict",
    "DistillationLoss",
    "DistillationTrainer",
    "F",
    "Optional",
    "Tuple",
    "compare_teacher_student",
    "logger",
    "nn",
    "np",
    "torch",
]

logger = get_logger("training.knowledge_distillation")


class DistillationLoss(nn.Module):
    def __init__(self, temperature: float = 4.0, alpha: Any = 0.7, hard_loss_type: str = "cross_entropy") -> None:
        super().__init__()
        if hard_loss_type not in HARD_LOSSES:
            raise ValueError(f"Unknown hard loss type: {hard_loss_type}")
        self.temperature = temperature
        self.alpha = alpha
        self.hard_loss_type = hard_loss_type

    def forward(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: Any) -> Any:
        total, parts = distillation_loss(
            student_logits, teacher_logits, labels, self.temperature, self.alpha,
            self.hard_loss_type, detach_teacher=False,
        )
        return total, {k: v.item() for k, v in parts.items()}


class _DistillationTask(B.BatchMeanTask):
    """Teacher forward under ``no_grad``, then ``criterion(student, teacher, labels)``."""

    def forward(self, model: Any, inputs: Any, labels: Any) -> Any:
        owner = self.owner
        with torch.no_grad():
            teacher_logits = owner.teacher_model(inputs)
        student_logits = model(inputs)
        loss, parts = owner.criterion(student_logits, teacher_logits, labels)
        as_tensor = lambda v: torch.tensor(float(v), dtype=torch.float64)  # noqa: E731
        return student_logits, loss, {"soft_loss": as_tensor(parts["soft_loss"]),
                                      "hard_loss": as_tensor(parts["hard_loss"])}


class DistillationTrainer:
    """Train ``student_model`` to match a frozen ``teacher_model`` with a distillation criterion."""

    def __init__(self, teacher_model: Any, student_model: Any, criterion: Any, optimizer: Any,
                 device: Any = "cpu") -> None:
        self.teacher_model = teacher_model.to(device)
        self.student_model = student_model.to(device)
        self.criterion = criterion
        self.optimizer = optimizer
        self.device = device
        self.teacher_model.eval()
        for param in self.teacher_model.parameters():
            param.requires_grad = False

    def train_epoch(self, train_loader: Any, epoch: int) -> Any:
        metrics = self._core().run_training_epoch(train_loader)
        return B.batch_mean_metrics(metrics, "train", extra=("soft_loss", "hard_loss"))

    def evaluate(self, val_loader: Any) -> Any:
        metrics = self._core().evaluate(val_loader)
        self.student_model.eval()
        return B.batch_mean_metrics(metrics, "val")

    def train(self, train_loader: Any, val_loader: Any, epochs: int, scheduler: Any = None) -> Any:
        history: dict[str, list[Any]] = {"train_loss": [], "train_accuracy": [], "val_loss": [], "val_accuracy": []}
        best = {"val_accuracy": 0.0}

        def end(core: Any, epoch: int) -> None:
            row = B.last_row(core)
            train = B.batch_mean_metrics(row, "train", extra=("soft_loss", "hard_loss"))
            val = B.batch_mean_metrics(row, "val")
            self.student_model.eval()  # legacy evaluate() left the student in eval mode
            if scheduler is not None:
                scheduler.step()
            for key in history:
                history[key].append(train[key] if key in train else val[key])
            print(f"Epoch {epoch + 1}/{epochs}")
            print(f"  Train Loss: {train['train_loss']:.4f}, Train Acc: {train['train_accuracy']:.2f}%")
            print(f"  Val Loss: {val['val_loss']:.4f}, Val Acc: {val['val_accuracy']:.2f}%")
            if val["val_accuracy"] > best["val_accuracy"]:
                best["val_accuracy"] = val["val_accuracy"]
                print(f"  → New best validation accuracy: {val['val_accuracy']:.2f}%")

        self._core(epochs, [B.EpochBridge(None, end)]).fit(train_loader, val_loader)
        return history

    def _core(self, max_epochs: int = 0, callbacks: Any = ()) -> Any:
        return B.plain_step_core(self.student_model, self.optimizer, _DistillationTask(self), self.device,
                                 max_epochs=max_epochs, callbacks=callbacks)


def compare_teacher_student(teacher_model: Any, student_model: Any, test_loader: Any, device: Any = "cpu") -> Any:
    """Accuracies (%) of both models on ``test_loader``, their gap, sizes and agreement.

    ``agreement`` is the share of samples both models classify *correctly* (legacy meaning).
    Both models are put in ``eval()`` mode and are not moved to ``device``.
    """
    teacher_model.eval()
    student_model.eval()
    teacher_correct = student_correct = both_correct = total = 0
    with torch.no_grad():
        for inputs, labels in test_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            t_pred = teacher_model(inputs).argmax(dim=1)
            s_pred = student_model(inputs).argmax(dim=1)
            t_ok, s_ok = t_pred == labels, s_pred == labels
            teacher_correct += int(t_ok.sum())
            student_correct += int(s_ok.sum())
            both_correct += int((t_ok & s_ok).sum())
            total += labels.size(0)
    teacher_acc = 100.0 * teacher_correct / total
    student_acc = 100.0 * student_correct / total
    teacher_params = sum(p.numel() for p in teacher_model.parameters())
    student_params = sum(p.numel() for p in student_model.parameters())
    return {
        "teacher_accuracy": teacher_acc,
        "student_accuracy": student_acc,
        "accuracy_gap": teacher_acc - student_acc,
        "agreement": 100.0 * both_correct / total,
        "teacher_params": teacher_params,
        "student_params": student_params,
        "compression_ratio": teacher_params / student_params,
    }


#: The example legacy printed for ``python -m training.knowledge_distillation`` (its text, verbatim).
_USAGE = "\n".join([
    '',
    '    # Create teacher and student models',
    '    teacher = create_resnet50_1d(num_classes=NUM_CLASSES)',
    '    student = create_resnet18_1d(num_classes=NUM_CLASSES)',
    '',
    '    # Load pre-trained teacher',
    "    teacher.load_state_dict(torch.load('teacher_model.pth'))",
    '',
    '    # Setup distillation',
    '    criterion = DistillationLoss(temperature=4.0, alpha=0.7)',
    '    optimizer = torch.optim.Adam(student.parameters(), lr=0.001)',
    '',
    '    trainer = DistillationTrainer(',
    '        teacher_model=teacher,',
    '        student_model=student,',
    '        criterion=criterion,',
    '        optimizer=optimizer,',
    "        device='cuda'",
    '    )',
    '',
    '    # Train student with distillation',
    '    history = trainer.train(',
    '        train_loader=train_loader,',
    '        val_loader=val_loader,',
    '        epochs=50',
    '    )',
    '',
    '    # Compare teacher vs student',
    '    comparison = compare_teacher_student(',
    "        teacher, student, test_loader, device='cuda'",
    '    )',
    '    print(f"Teacher accuracy: {comparison[\'teacher_accuracy\']:.2f}%")',
    '    print(f"Student accuracy: {comparison[\'student_accuracy\']:.2f}%")',
    '    print(f"Compression ratio: {comparison[\'compression_ratio\']:.1f}×")',
    '    ',
])


def _legacy_main() -> None:
    """``python -m training.knowledge_distillation``: legacy printed a usage example."""
    print('Knowledge Distillation Framework')
    print("\nExample usage:")
    print(_USAGE)
