"""Knowledge-distillation loss (Hinton et al. 2015): softened teacher targets plus a hard-label term."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

HARD_LOSSES = ("cross_entropy", "mse")


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    temperature: float = 4.0,
    alpha: float = 0.7,
    hard_loss: str = "cross_entropy",
    detach_teacher: bool = True,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``alpha * KL(student_T || teacher_T) * T^2 + (1 - alpha) * hard``.

    Returns the total and ``{'soft_loss', 'hard_loss', 'total_loss'}`` as detached 0-d tensors
    (no host synchronisation). ``detach_teacher=False`` lets a gradient flow into the teacher
    logits, as legacy did. ``hard_loss='mse'`` compares ``softmax(student)`` with one-hot labels.
    """
    if hard_loss not in HARD_LOSSES:
        raise ValueError(f"hard_loss must be one of {list(HARD_LOSSES)}, got {hard_loss!r}")
    if student_logits.shape != teacher_logits.shape or student_logits.dim() != 2:
        raise ValueError(
            "distillation_loss expects student and teacher logits of the same shape [B, K]; received "
            f"{list(student_logits.shape)} and {list(teacher_logits.shape)}"
        )
    if labels.dim() != 1 or labels.shape[0] != student_logits.shape[0]:
        raise ValueError(
            f"distillation_loss expects labels [B] with B={student_logits.shape[0]}; received "
            f"{list(labels.shape)}"
        )
    if detach_teacher:
        teacher_logits = teacher_logits.detach()
    soft = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=1),
        F.softmax(teacher_logits / temperature, dim=1),
        reduction="batchmean",
    ) * (temperature**2)
    if hard_loss == "cross_entropy":
        hard = F.cross_entropy(student_logits, labels)
    else:
        one_hot = F.one_hot(labels, num_classes=student_logits.shape[1]).to(student_logits.dtype)
        hard = F.mse_loss(F.softmax(student_logits, dim=1), one_hot)
    total = alpha * soft + (1 - alpha) * hard
    parts = {"soft_loss": soft.detach(), "hard_loss": hard.detach(), "total_loss": total.detach()}
    return total, parts


class DistillationLoss(nn.Module):
    """Module form of :func:`distillation_loss`; ``forward`` returns ``(total, parts)``."""

    def __init__(
        self,
        temperature: float = 4.0,
        alpha: float = 0.7,
        hard_loss: str = "cross_entropy",
        detach_teacher: bool = True,
    ) -> None:
        super().__init__()
        if hard_loss not in HARD_LOSSES:
            raise ValueError(f"hard_loss must be one of {list(HARD_LOSSES)}, got {hard_loss!r}")
        self.temperature = temperature
        self.alpha = alpha
        self.hard_loss = hard_loss
        self.detach_teacher = detach_teacher

    def forward(
        self, student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return distillation_loss(
            student_logits, teacher_logits, labels, self.temperature, self.alpha,
            self.hard_loss, self.detach_teacher,
        )
