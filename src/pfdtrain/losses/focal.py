"""Focal loss (Lin et al. 2017): down-weights well-classified examples by ``(1 - p_t)^gamma``."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from pfdtrain.losses._checks import check_logits_targets, check_reduction, reduce


def focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    gamma: float = 2.0,
    alpha: torch.Tensor | None = None,
    reduction: str = "mean",
    log_eps: float | None = None,
) -> torch.Tensor:
    """Per-sample ``alpha[y] * (1 - p_t)^gamma * -log(p_t)``, reduced.

    ``log_eps=None`` takes ``-log(p_t)`` from ``log_softmax`` (exact even for confidently wrong
    rows; legacy ``training.losses``). ``log_eps=1e-8`` computes ``p_t`` with ``softmax`` and
    ``-log(p_t + log_eps)``, which caps the loss of very wrong rows near ``-log(1e-8)`` (legacy
    ``training.cnn_losses``).
    """
    check_logits_targets(logits, targets, "focal_loss")
    check_reduction(reduction)
    index = targets.unsqueeze(1)
    if log_eps is None:
        ce = -F.log_softmax(logits, dim=1).gather(1, index).squeeze(1)
        p_t = torch.exp(-ce)
    else:
        p_t = F.softmax(logits, dim=1).gather(1, index).squeeze(1)
        ce = -torch.log(p_t + log_eps)
    loss = (1 - p_t) ** gamma * ce
    if alpha is not None:
        loss = alpha.to(device=loss.device, dtype=loss.dtype)[targets] * loss
    return reduce(loss, reduction)


class FocalLoss(nn.Module):
    """Module form of :func:`focal_loss`; ``alpha`` is an optional per-class weight vector."""

    alpha: torch.Tensor | None  # a buffer: moves with the module and lives in its state_dict

    def __init__(
        self,
        alpha: torch.Tensor | Sequence[float] | None = None,
        gamma: float = 2.0,
        reduction: str = "mean",
        log_eps: float | None = None,
    ) -> None:
        super().__init__()
        if alpha is not None and not isinstance(alpha, torch.Tensor):
            if isinstance(alpha, (int, float)):
                raise TypeError(
                    "FocalLoss alpha must be a per-class weight vector (tensor or sequence), "
                    f"received the scalar {alpha!r}; pass e.g. [w_0, ..., w_K-1]"
                )
            alpha = torch.as_tensor(alpha, dtype=torch.float32)
        self.register_buffer("alpha", alpha)
        self.gamma = gamma
        self.reduction = check_reduction(reduction)
        self._log_eps = log_eps

    @property
    def log_eps(self) -> float | None:
        return self._log_eps

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return focal_loss(logits, targets, self.gamma, self.alpha, self.reduction, self._log_eps)
