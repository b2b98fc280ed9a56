"""Legacy ``training.metrics``: the same calls into scikit-learn's metric functions, served by
:mod:`pfdtrain.compat._sklearn_metrics` (scikit-learn 1.9.1's behaviour, without scikit-learn).

Each function passes its arguments on exactly as legacy did (``average`` unchanged, so every value
scikit-learn accepts works and every other raises scikit-learn's error; ``zero_division=0``), and
through this module's globals ``f1_score``, ``precision_score``, ``recall_score``,
``accuracy_score`` and ``sklearn_confusion_matrix``, so patching ``training.metrics.f1_score``
changes what ``compute_f1_score`` calls. Kept behaviour: ``compute_accuracy`` /
``compute_top_k_accuracy`` return percentages (torch; an empty batch divides by zero, ``k``
larger than the class count is torch's ``RuntimeError``); F1 and the tracker's values are
fractions (python floats; ``average=None`` gives scikit-learn's per-class ``ndarray`` over the
labels present); the confusion matrix infers its labels unless ``num_classes`` is given;
per-class metrics are ``{int: {...: numpy.float64}}``; ``MetricsTracker`` keeps CPU numpy arrays
and returns ``{}`` when empty. New code: :mod:`pfdtrain.metrics` (on the device, no host sync).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, Dict, Optional, Tuple, get_logger
from pfdtrain.compat._sklearn_metrics import accuracy_score, f1_score, precision_score, recall_score
from pfdtrain.compat._sklearn_metrics import confusion_matrix as sklearn_confusion_matrix

__all__ = [
    # module-level names of the legacy module (served as training.metrics.<name>)
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "Dict",
    "MetricsTracker",
    "Optional",
    "Tuple",
    "accuracy_score",
    "compute_accuracy",
    "compute_confusion_matrix",
    "compute_f1_score",
    "compute_per_class_metrics",
    "compute_top_k_accuracy",
    "f1_score",
    "logger",
    "np",
    "precision_score",
    "recall_score",
    "sklearn_confusion_matrix",
    "torch",
]

logger = get_logger("training.metrics")


def _labels(predictions: torch.Tensor) -> torch.Tensor:
    return predictions.argmax(dim=1) if predictions.dim() > 1 else predictions


def _numpy(predictions: torch.Tensor, targets: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    return _labels(predictions).detach().cpu().numpy(), targets.detach().cpu().numpy()


class MetricsTracker:
    """Collects predictions and targets batch by batch; ``compute`` scores them all at once."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.predictions: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []

    def update(self, predictions: torch.Tensor, targets: torch.Tensor) -> None:
        preds, targs = _numpy(predictions, targets)
        self.predictions.append(preds)
        self.targets.append(targs)

    def compute(self, average: str = "macro") -> dict[str, Any]:
        if not self.predictions:
            return {}
        preds, targets = np.concatenate(self.predictions), np.concatenate(self.targets)
        return {
            "accuracy": accuracy_score(targets, preds),
            "f1_score": f1_score(targets, preds, average=average, zero_division=0),
            "precision": precision_score(targets, preds, average=average, zero_division=0),
            "recall": recall_score(targets, preds, average=average, zero_division=0),
        }


def compute_accuracy(predictions: torch.Tensor, targets: torch.Tensor) -> float:
    correct = (_labels(predictions) == targets).sum().item()
    return 100.0 * correct / targets.size(0)


def compute_f1_score(predictions: torch.Tensor, targets: torch.Tensor, average: str = "macro") -> Any:
    preds, targs = _numpy(predictions, targets)
    return f1_score(targs, preds, average=average, zero_division=0)


def compute_confusion_matrix(predictions: torch.Tensor, targets: torch.Tensor,
                             num_classes: Optional[int] = None) -> np.ndarray:
    preds, targs = _numpy(predictions, targets)
    labels = list(range(num_classes)) if num_classes is not None else None
    return sklearn_confusion_matrix(targs, preds, labels=labels)


def compute_top_k_accuracy(predictions: torch.Tensor, targets: torch.Tensor, k: int = 5) -> float:
    with torch.no_grad():
        batch_size = targets.size(0)
        _, top_k = predictions.topk(k, dim=1, largest=True, sorted=True)
        correct = top_k.eq(targets.view(-1, 1).expand_as(top_k)).any(dim=1).sum().item()
        return 100.0 * correct / batch_size


def compute_per_class_metrics(predictions: torch.Tensor, targets: torch.Tensor,
                              num_classes: int) -> dict[int, dict[str, Any]]:
    preds, targs = _numpy(predictions, targets)
    labels = list(range(num_classes))
    precision = precision_score(targs, preds, average=None, labels=labels, zero_division=0)
    recall = recall_score(targs, preds, average=None, labels=labels, zero_division=0)
    f1 = f1_score(targs, preds, average=None, labels=labels, zero_division=0)
    return {i: {"precision": precision[i], "recall": recall[i], "f1_score": f1[i]} for i in range(num_classes)}
