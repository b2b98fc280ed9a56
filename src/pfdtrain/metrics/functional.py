"""Classification metrics computed with torch on the inputs' device.

Values match scikit-learn's (``zero_division`` semantics, labels inferred from the union of
targets and predictions for averaging) without needing it. Results are 0-d tensors (float64,
float32 on MPS): nothing here calls ``.item()``, so the caller decides when to synchronise.
"""

from __future__ import annotations

from typing import Literal

import torch

Average = Literal["macro", "micro", "weighted"]
AVERAGES = ("macro", "micro", "weighted")


def as_labels(predictions: torch.Tensor) -> torch.Tensor:
    """Class indices from labels ``[N]`` or from scores ``[N, K]`` (argmax)."""
    if predictions.dim() == 2:
        return predictions.argmax(dim=1)
    if predictions.dim() != 1:
        raise ValueError(f"predictions must be labels [N] or scores [N, K]; received {list(predictions.shape)}")
    return predictions


def _float(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64


def _check(labels: torch.Tensor, targets: torch.Tensor) -> None:
    if targets.dim() != 1 or targets.shape[0] != labels.shape[0]:
        raise ValueError(
            f"targets must be labels [N] matching the predictions; received predictions {list(labels.shape)} "
            f"and targets {list(targets.shape)}"
        )


def confusion_matrix(predictions: torch.Tensor, targets: torch.Tensor, num_classes: int | None = None) -> torch.Tensor:
    """``[K, K]`` int64 counts, rows = targets, columns = predictions.

    ``num_classes=None`` uses ``max label + 1`` (one host sync); with ``num_classes`` the count is
    sync-free and labels outside ``[0, num_classes)`` are ignored.
    """
    labels = as_labels(predictions)
    _check(labels, targets)
    targets = targets.to(labels.device)
    if num_classes is None:
        num_classes = int(torch.maximum(labels.max(), targets.max())) + 1 if labels.numel() else 0
    k = num_classes
    inside = (labels >= 0) & (labels < k) & (targets >= 0) & (targets < k)
    index = torch.where(inside, targets * k + labels, torch.full_like(labels, k * k))  # overflow bin
    counts = torch.zeros(k * k + 1, dtype=torch.int64, device=labels.device)
    counts.scatter_add_(0, index.to(torch.int64), torch.ones_like(index, dtype=torch.int64))
    return counts[: k * k].view(k, k)


def _ratio(num: torch.Tensor, den: torch.Tensor, zero_division: float) -> torch.Tensor:
    return torch.where(den > 0, num / den.clamp_min(1), torch.full_like(num, zero_division))


def per_class_from_confusion(cm: torch.Tensor, zero_division: float = 0.0) -> dict[str, torch.Tensor]:
    """Per-class ``precision``, ``recall``, ``f1_score`` and ``support`` from a confusion matrix."""
    dtype = _float(cm.device)
    tp = cm.diagonal().to(dtype)
    predicted = cm.sum(0).to(dtype)
    support = cm.sum(1).to(dtype)
    return {
        "precision": _ratio(tp, predicted, zero_division),
        "recall": _ratio(tp, support, zero_division),
        "f1_score": _ratio(2 * tp, predicted + support, zero_division),
        "support": support,
    }


def average_from_confusion(
    cm: torch.Tensor, average: Average = "macro", zero_division: float = 0.0
) -> dict[str, torch.Tensor]:
    """``accuracy`` (fraction), ``f1_score``, ``precision`` and ``recall`` averaged as sklearn does.

    ``macro`` averages over the classes that occur in targets or predictions, ``weighted`` weights
    by support, ``micro`` pools the counts (equal to accuracy for single-label data).
    """
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {list(AVERAGES)}, got {average!r}")
    stats = per_class_from_confusion(cm, zero_division)
    dtype = _float(cm.device)
    total = cm.sum().to(dtype)
    correct = cm.diagonal().sum().to(dtype)
    accuracy = _ratio(correct, total, zero_division)
    if average == "micro":
        values = {"f1_score": accuracy, "precision": accuracy, "recall": accuracy}
    else:
        weights = ((cm.sum(0) + cm.sum(1)) > 0).to(dtype) if average == "macro" else stats["support"]
        norm = weights.sum()
        values = {
            k: _ratio((stats[k] * weights).sum(), norm, zero_division) for k in ("f1_score", "precision", "recall")
        }
    return {"accuracy": accuracy, **values}


def accuracy(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of correct labels (argmax of scores); NaN for an empty batch."""
    labels = as_labels(predictions)
    _check(labels, targets)
    dtype = _float(labels.device)
    return (labels == targets.to(labels.device)).sum().to(dtype) / labels.shape[0]


def top_k_accuracy(scores: torch.Tensor, targets: torch.Tensor, k: int = 5) -> torch.Tensor:
    """Fraction of samples whose target is among the ``k`` highest scores (``k > K`` raises)."""
    if scores.dim() != 2:
        raise ValueError(f"top_k_accuracy needs scores [N, K]; received {list(scores.shape)}")
    _check(scores[:, 0], targets)
    hits = (scores.topk(k, dim=1).indices == targets.to(scores.device).unsqueeze(1)).any(dim=1)
    return hits.sum().to(_float(scores.device)) / scores.shape[0]


def precision_recall_f1(
    predictions: torch.Tensor, targets: torch.Tensor, average: Average = "macro",
    num_classes: int | None = None, zero_division: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Averaged precision, recall and F1 (see :func:`average_from_confusion`)."""
    values = average_from_confusion(confusion_matrix(predictions, targets, num_classes), average, zero_division)
    return values["precision"], values["recall"], values["f1_score"]


def f1_score(predictions: torch.Tensor, targets: torch.Tensor, average: Average = "macro",
             num_classes: int | None = None, zero_division: float = 0.0) -> torch.Tensor:
    return precision_recall_f1(predictions, targets, average, num_classes, zero_division)[2]


def per_class_metrics(predictions: torch.Tensor, targets: torch.Tensor, num_classes: int,
                      zero_division: float = 0.0) -> dict[str, torch.Tensor]:
    """``[num_classes]`` tensors ``precision``, ``recall``, ``f1_score``, ``support``."""
    return per_class_from_confusion(confusion_matrix(predictions, targets, num_classes), zero_division)
