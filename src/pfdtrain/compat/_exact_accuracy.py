"""Legacy accuracies to the last bit: ``100. * correct / total`` from integer counts.

The legacy loops counted correct predictions as integers and reported ``100. * correct / total``.
The core averages per-batch fractions (``correct / batch``) weighted by batch size, and ``100 *``
that mean can differ from the legacy value in the last bit (41.66666666666667 instead of
41.666666666666664), which real scripts then compare, print with ``repr`` and save in checkpoints
and JSON results. :class:`AccuracyCounts` recovers each batch's count exactly (``round(fraction *
batch_size)``; batch-mean tasks report ``correct``/``count`` themselves), :func:`with_counts`
attaches the epoch totals to an epoch dict, and :func:`percent` turns them into the legacy value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from pfdtrain.callbacks.base import Callback
from pfdtrain.tasks.base import StepOutput

__all__ = ["COUNTS", "AccuracyCounts", "percent", "with_counts"]

#: Suffix of the entry holding ``(correct, total)`` next to an accuracy entry of an epoch dict.
COUNTS = "@counts"


class AccuracyCounts(Callback):
    """Correct predictions and samples behind every ``acc``/``*_acc`` fraction metric of an epoch.

    Counts stay on the device until :meth:`totals` is read (once per epoch). Keys are the core's
    epoch metric names: ``train_acc``, ``val_acc``, ``train_<tfr>_acc``; batch-mean tasks
    (``correct`` and ``count`` metrics) are counted under ``<prefix>_correct``.
    """

    def __init__(self) -> None:
        self._hits: dict[str, list[torch.Tensor]] = {}
        self._sizes: dict[str, list[Any]] = {}

    def reset(self, prefix: str) -> None:
        """Forget the counts of one phase (``'train'`` or ``'val'``)."""
        for key in [k for k in self._hits if k.startswith(prefix + "_")]:
            del self._hits[key], self._sizes[key]

    def on_train_epoch_start(self, trainer: Any) -> None:
        self.reset("train")

    def on_validation_start(self, trainer: Any) -> None:
        self.reset("val")

    def on_train_batch_end(self, trainer: Any, outputs: StepOutput, batch: Any, batch_idx: int) -> None:
        self.add("train", outputs)

    def on_validation_batch_end(self, trainer: Any, outputs: StepOutput, batch: Any, batch_idx: int) -> None:
        self.add("val", outputs)

    def add(self, prefix: str, out: StepOutput) -> None:
        metrics = out.metrics
        if "correct" in metrics and "count" in metrics:
            self._record(f"{prefix}_correct", metrics["correct"], metrics["count"])
        for key, value in metrics.items():
            if key == "acc" or key.endswith("_acc"):
                hits = torch.round(value.detach().to(torch.float64) * out.batch_size)
                self._record(f"{prefix}_{key}", hits, out.batch_size)

    def _record(self, key: str, hits: torch.Tensor, size: Any) -> None:
        self._hits.setdefault(key, []).append(hits.detach().reshape(()))
        self._sizes.setdefault(key, []).append(size)

    def totals(self, prefix: str) -> dict[str, tuple[int, int]]:
        """``{<key>@counts: (correct, total)}`` for every counted metric of ``prefix``."""
        out = {}
        for key, hits in self._hits.items():
            if key.startswith(prefix + "_"):
                correct = int(torch.stack(hits).sum().item())
                total = int(sum(float(size) for size in self._sizes[key]))
                out[key + COUNTS] = (correct, total)
        return out


def with_counts(metrics: dict[str, Any], counts: AccuracyCounts | None, *prefixes: str) -> dict[str, Any]:
    """``metrics`` plus the exact counts of ``prefixes`` (unchanged without a counter)."""
    if counts is None:
        return metrics
    for prefix in prefixes:
        metrics = {**metrics, **counts.totals(prefix)}
    return metrics


def percent(metrics: Mapping[str, Any], key: str) -> float:
    """Legacy ``100. * correct / total`` for the epoch fraction ``metrics[key]``.

    Uses the counts attached by :func:`with_counts`; without them, ``100 * metrics[key]``. A
    missing key is the empty epoch legacy failed on (``ZeroDivisionError``).
    """
    if key not in metrics:
        raise ZeroDivisionError("float division by zero")
    counts = metrics.get(key + COUNTS)
    if counts is None:
        return 100.0 * metrics[key]
    correct, total = counts
    return 100.0 * correct / total
