"""Legacy accuracies to the last bit: ``100. * correct / total`` from integer counts.

The legacy loops counted correct predictions as integers and reported ``100. * correct / total``.
The core averages per-batch fractions (``correct / batch``) weighted by batch size, and ``100 *``
that mean can differ from the legacy value in the last bit (41.66666666666667 instead of
41.666666666666664), which real scripts then compare, print with ``repr`` and save in checkpoints
and JSON results. The core's epoch mean is ``sum(fraction * batch) / total`` summed in float64,
so ``round(mean * total)`` is exactly the integer count legacy had (each batch's float32 fraction
is off by far less than half a sample); :class:`AccuracyCounts` only counts the samples behind
each accuracy (plain integers, no device work per batch), :func:`with_counts` attaches ``(correct,
total)`` to an epoch dict, and :func:`percent` turns them into the legacy value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pfdtrain.callbacks.base import Callback
from pfdtrain.tasks.base import StepOutput

__all__ = ["COUNTS", "AccuracyCounts", "percent", "with_counts"]

#: Suffix of the entry holding ``(correct, total)`` next to an accuracy entry of an epoch dict.
COUNTS = "@counts"


def _is_accuracy(key: str) -> bool:
    return key == "acc" or key.endswith("_acc")


class AccuracyCounts(Callback):
    """Samples behind every ``acc``/``*_acc`` fraction metric of an epoch, per phase.

    Keys are the core's epoch metric names: ``train_acc``, ``val_acc``, ``train_<tfr>_acc``;
    batch-mean tasks (``correct`` and ``count`` metrics, each batch weighted 1) are counted under
    ``<prefix>_correct``, whose totals are ``(correct, count)`` summed over the epoch.
    """

    def __init__(self) -> None:
        self._samples: dict[str, int] = {}

    def reset(self, prefix: str) -> None:
        """Forget the counts of one phase (``'train'`` or ``'val'``)."""
        for key in [k for k in self._samples if k.startswith(prefix + "_")]:
            del self._samples[key]

    def on_train_epoch_start(self, trainer: Any) -> None:
        self.reset("train")

    def on_validation_start(self, trainer: Any) -> None:
        self.reset("val")

    def on_train_batch_end(self, trainer: Any, outputs: StepOutput, batch: Any, batch_idx: int) -> None:
        self.add("train", outputs)

    def on_validation_batch_end(self, trainer: Any, outputs: StepOutput, batch: Any, batch_idx: int) -> None:
        self.add("val", outputs)

    def add(self, prefix: str, out: StepOutput) -> None:
        for key in out.metrics:
            if _is_accuracy(key) or (key == "correct" and "count" in out.metrics):
                name = f"{prefix}_{key}"
                self._samples[name] = self._samples.get(name, 0) + int(out.batch_size)

    def totals(self, metrics: Mapping[str, Any], prefix: str) -> dict[str, tuple[int, int]]:
        """``{<key>@counts: (correct, total)}`` for every counted accuracy of ``prefix`` in ``metrics``."""
        out = {}
        for key, weight in self._samples.items():
            if not (key.startswith(prefix + "_") and key in metrics and weight):
                continue
            if key.endswith("_correct"):  # batch means of per-batch sums: (correct, count) summed
                count = metrics.get(key.removesuffix("_correct") + "_count")
                if count is not None:
                    out[key + COUNTS] = (round(metrics[key] * weight), round(count * weight))
            else:
                out[key + COUNTS] = (round(metrics[key] * weight), weight)
        return out


def with_counts(metrics: dict[str, Any], counts: AccuracyCounts | None, *prefixes: str) -> dict[str, Any]:
    """``metrics`` plus the exact counts of ``prefixes`` (unchanged without a counter)."""
    if counts is None:
        return metrics
    for prefix in prefixes:
        metrics = {**metrics, **counts.totals(metrics, prefix)}
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
