"""Epoch-level metric accumulation on the device, without a host sync per batch."""

from __future__ import annotations

import torch

from pfdtrain.metrics.functional import Average, as_labels, average_from_confusion, confusion_matrix


class MetricsTracker:
    """Accumulate predictions over batches; :meth:`compute` gives accuracy, F1, precision, recall.

    With ``num_classes`` a ``[K, K]`` confusion matrix is accumulated in place (constant memory;
    labels outside ``[0, K)`` are ignored). Without it the per-batch labels are kept on the device
    and concatenated at :meth:`compute`. ``update`` never synchronises with the host.
    """

    def __init__(self, num_classes: int | None = None) -> None:
        self._num_classes = num_classes
        self.reset()

    def reset(self) -> None:
        self._confusion: torch.Tensor | None = None
        self._predictions: list[torch.Tensor] = []
        self._targets: list[torch.Tensor] = []

    def update(self, predictions: torch.Tensor, targets: torch.Tensor) -> None:
        labels = as_labels(predictions.detach())
        targets = targets.detach()
        if self._num_classes is None:
            self._predictions.append(labels)
            self._targets.append(targets)
            return
        batch = confusion_matrix(labels, targets, self._num_classes)
        self._confusion = batch if self._confusion is None else self._confusion + batch

    def confusion_matrix(self) -> torch.Tensor | None:
        """Counts so far (rows = targets), ``None`` before the first update."""
        if self._num_classes is not None or not self._predictions:
            return self._confusion
        return confusion_matrix(torch.cat(self._predictions), torch.cat(self._targets))

    def compute(self, average: Average = "macro") -> dict[str, torch.Tensor]:
        """0-d tensors ``accuracy`` (fraction), ``f1_score``, ``precision``, ``recall``; ``{}`` if empty."""
        cm = self.confusion_matrix()
        if cm is None:
            return {}
        return average_from_confusion(cm, average)
