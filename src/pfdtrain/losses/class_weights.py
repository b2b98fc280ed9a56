"""Inverse-frequency class weights ``N / (K * count_k)`` for imbalanced data sets."""

from __future__ import annotations

import torch


def compute_class_weights(
    targets: torch.Tensor,
    num_classes: int,
    *,
    missing_class_weight: float | None = 0.0,
    validate: bool = True,
    eps: float = 1e-10,
) -> torch.Tensor:
    """float32 weights ``[num_classes]`` on the targets' device.

    A class absent from ``targets`` gets ``missing_class_weight`` (0 by default: it cannot be
    balanced). ``missing_class_weight=None`` keeps the raw formula ``N / (K * 0 + eps)``, a huge
    finite value (legacy). ``validate=True`` rejects labels outside ``[0, num_classes)``; with
    ``False`` such labels lengthen the result, as ``bincount`` does (legacy).
    """
    if targets.dim() != 1 or targets.is_floating_point():
        raise ValueError(
            f"compute_class_weights expects 1-D integer labels, received {list(targets.shape)} "
            f"of dtype {targets.dtype}"
        )
    if validate and targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}); received values in "
            f"[{int(targets.min())}, {int(targets.max())}]"
        )
    counts = torch.bincount(targets, minlength=num_classes)
    weights = counts.sum() / (num_classes * counts + eps)
    if missing_class_weight is not None:
        weights = torch.where(counts == 0, torch.full_like(weights, missing_class_weight), weights)
    return weights
