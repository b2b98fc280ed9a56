"""Shared argument checks for the losses: errors say what was received and what is expected."""

from __future__ import annotations

import torch

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(REDUCTIONS)}, got {reduction!r}")
    return reduction


def reduce(per_sample: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply a validated reduction to a per-sample loss vector."""
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    return per_sample


def check_logits_targets(logits: torch.Tensor, targets: torch.Tensor, what: str) -> None:
    """Logits ``[B, K]`` and integer class labels ``[B]``."""
    if logits.dim() != 2 or targets.dim() != 1 or targets.shape[0] != logits.shape[0]:
        raise ValueError(
            f"{what} expects logits [B, K] and class labels [B]; received logits "
            f"{list(logits.shape)} and targets {list(targets.shape)}"
        )
    if targets.is_floating_point():
        raise ValueError(
            f"{what} expects integer class labels, received targets of dtype {targets.dtype}"
        )
