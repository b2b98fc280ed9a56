"""Legacy ``training.metrics`` on top of :mod:`pfdtrain.metrics` (no scikit-learn needed).

Kept behaviour: ``compute_accuracy`` / ``compute_top_k_accuracy`` return percentages, F1 and the
tracker's values are fractions (python floats, like scikit-learn 1.9); the confusion matrix is a
numpy array whose labels are the union of those present unless ``num_classes`` is given;
per-class metrics are ``{int: {...: numpy.float64}}``; ``MetricsTracker`` keeps CPU numpy arrays
in ``predictions`` / ``targets`` and returns ``{}`` when empty.
"""

from __future__ import annotations

import numpy as np
import torch

from pfdtrain import metrics as _core

__all__ = [
    "MetricsTracker",
    "compute_accuracy",
    "compute_confusion_matrix",
    "compute_f1_score",
    "compute_per_class_metrics",
    "compute_top_k_accuracy",
]


def compute_accuracy(predictions, targets):
    if targets.shape[0] == 0:
        raise ZeroDivisionError("float division by zero")
    return 100.0 * float(_core.accuracy(predictions, targets))


def compute_f1_score(predictions, targets, average="macro"):
    return float(_core.f1_score(predictions, targets, average))


def compute_confusion_matrix(predictions, targets, num_classes=None):
    cm = _core.confusion_matrix(predictions, targets, num_classes)
    if num_classes is None:  # sklearn: labels = sorted union of those present
        labels = _core.as_labels(predictions)
        present = torch.unique(torch.cat([targets.to(labels.device), labels]))
        cm = cm[present][:, present]
    return cm.cpu().numpy()


def compute_top_k_accuracy(predictions, targets, k=5):
    return 100.0 * float(_core.top_k_accuracy(predictions, targets, k))


def compute_per_class_metrics(predictions, targets, num_classes):
    stats = {k: v.cpu().numpy() for k, v in _core.per_class_metrics(predictions, targets, num_classes).items()}
    return {
        c: {name: np.float64(stats[name][c]) for name in ("precision", "recall", "f1_score")}
        for c in range(num_classes)
    }


class MetricsTracker:
    def __init__(self):
        self.reset()

    def reset(self):
        self.predictions = []
        self.targets = []

    def update(self, predictions, targets):
        self.predictions.append(_core.as_labels(predictions.detach()).cpu().numpy())
        self.targets.append(targets.detach().cpu().numpy())

    def compute(self, average="macro"):
        if not self.predictions:
            return {}
        cm = _core.confusion_matrix(torch.from_numpy(np.concatenate(self.predictions)),
                                    torch.from_numpy(np.concatenate(self.targets)))
        return {k: float(v) for k, v in _core.average_from_confusion(cm, average).items()}
