"""Legacy ``training.knowledge_distillation``: ``DistillationLoss`` and ``compare_teacher_student``.

(``DistillationTrainer`` lives with the trainers.) Kept quirks: the loss returns
``(tensor, {'soft_loss', 'hard_loss', 'total_loss'} as floats)`` and does not detach the teacher
logits; ``compare_teacher_student`` reports percentages and counts "agreement" as *both correct*.
"""

from __future__ import annotations

import torch
from torch import nn

from pfdtrain.losses.distillation import HARD_LOSSES, distillation_loss

__all__ = ["DistillationLoss", "compare_teacher_student"]


class DistillationLoss(nn.Module):
    def __init__(self, temperature=4.0, alpha=0.7, hard_loss_type="cross_entropy"):
        super().__init__()
        if hard_loss_type not in HARD_LOSSES:
            raise ValueError(f"Unknown hard loss type: {hard_loss_type}")
        self.temperature = temperature
        self.alpha = alpha
        self.hard_loss_type = hard_loss_type

    def forward(self, student_logits, teacher_logits, labels):
        total, parts = distillation_loss(
            student_logits, teacher_logits, labels, self.temperature, self.alpha,
            self.hard_loss_type, detach_teacher=False,
        )
        return total, {k: v.item() for k, v in parts.items()}


def compare_teacher_student(teacher_model, student_model, test_loader, device="cpu"):
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
