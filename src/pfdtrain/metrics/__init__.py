"""Classification metrics on the device (sklearn-compatible values, no sklearn)."""

from pfdtrain.metrics.functional import (
    AVERAGES,
    accuracy,
    as_labels,
    average_from_confusion,
    confusion_matrix,
    f1_score,
    per_class_from_confusion,
    per_class_metrics,
    precision_recall_f1,
    top_k_accuracy,
)
from pfdtrain.metrics.tracker import MetricsTracker

__all__ = [
    "AVERAGES",
    "MetricsTracker",
    "accuracy",
    "as_labels",
    "average_from_confusion",
    "confusion_matrix",
    "f1_score",
    "per_class_from_confusion",
    "per_class_metrics",
    "precision_recall_f1",
    "top_k_accuracy",
]
