"""Accuracy for reports, reached through the parent package as LSTM-PFD code does:
``core.training.metrics`` is an attribute of the legacy package that ``packages.core`` re-exports."""

import packages.core.training.metrics  # noqa: F401 - loads the module that the attribute chain below uses
from packages import core


def accuracy_percent(predictions, targets):
    return core.training.metrics.compute_accuracy(predictions, targets)
