"""Helpers shared by the built-in callbacks: metric lookup with useful errors, atomic writes."""

from __future__ import annotations

import difflib
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from pfdtrain.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer

MODES = ("min", "max")


def check_mode(owner: str, mode: str) -> str:
    if mode not in MODES:
        raise ConfigurationError(
            f"{owner}(mode={mode!r}) is not valid: mode must be 'min' (lower is better, e.g. a loss) "
            "or 'max' (higher is better, e.g. an accuracy)."
        )
    return mode


def missing_metric_error(owner: str, monitor: str, available: Any) -> ConfigurationError:
    names = sorted(str(k) for k in available)
    close = difflib.get_close_matches(monitor, names, n=1)
    hint = f" Did you mean monitor={close[0]!r}?" if close else ""
    return ConfigurationError(
        f"{owner} monitors {monitor!r}, but the trainer has no such metric. Available metrics: "
        f"{names if names else 'none yet'}.{hint} Pass monitor= with one of the available names "
        "(validation metrics such as 'val_loss' exist only when fit() gets a val_loader)."
    )


def monitored_value(trainer: Trainer, monitor: str, owner: str, *, epoch_end: bool) -> float | None:
    """The current value of ``monitor``, or ``None`` when it was legitimately not computed.

    "Legitimately" means: a step-based check before the first epoch ended (epoch metrics such
    as ``train_loss`` do not exist yet), validation has not run yet (``check_val_every_n_epoch``
    > 1), or, at epoch end, the metric was not logged this epoch (its history entry is ``None``:
    the value in ``callback_metrics`` is stale). A name that will never appear raises a
    :class:`ConfigurationError` listing what exists.
    """
    metrics = trainer.callback_metrics
    if monitor not in metrics:
        if not epoch_end and _epochs_done(trainer) == 0:
            return None
        validation_pending = (
            monitor.startswith("val_")
            and getattr(trainer, "val_dataloader", None) is not None
            and not any(str(k).startswith("val_") for k in metrics)
        )
        if validation_pending:
            return None
        raise missing_metric_error(owner, monitor, metrics)
    if epoch_end:
        history = getattr(trainer, "history", None)
        if history is not None and monitor in history and history.last(monitor) is None:
            return None  # not logged this epoch: the callback_metrics value is from an earlier one
    return to_float(metrics[monitor], f"{owner}: metric {monitor!r}")


def _epochs_done(trainer: Trainer) -> int:
    history = getattr(trainer, "history", None)
    if history is None:
        return 0
    done = getattr(history, "num_epochs", None)
    if done is None:
        done = len(history["epoch"]) if "epoch" in history else 0
    return int(done)


def to_float(value: Any, what: str) -> float:
    """A Python float from a float/int/0-d tensor/numpy scalar; anything else is an error."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    item = getattr(value, "item", None)
    numel = getattr(value, "numel", None) or getattr(value, "size", None)
    if callable(item):
        try:
            count = numel() if callable(numel) else numel
        except TypeError:
            count = None
        if count in (None, 1):
            return float(item())
    raise TypeError(f"{what} must be a number; received {type(value).__name__}.")


def is_improvement(current: float, best: float, mode: str, min_delta: float = 0.0) -> bool:
    if math.isnan(current):
        return False
    if mode == "min":
        return current < best - min_delta
    return current > best + min_delta


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` with :func:`pfdtrain.checkpoint.atomic.atomic_write`.

    A reader (or a crash) never sees a half-written file: it sees the old file or the new one.
    """
    from pfdtrain.checkpoint.atomic import atomic_write

    data = text.encode("utf-8")

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    atomic_write(path, write)


def default_dir(trainer: Trainer, given: str | os.PathLike[str] | None, sub: str) -> Path:
    if given is not None:
        return Path(given)
    return Path(getattr(trainer, "default_root_dir", "pfdtrain_runs")) / sub


def epoch_record(trainer: Trainer) -> dict[str, Any]:
    """This epoch's row of ``trainer.history`` without the ``None`` entries (metrics not logged)."""
    history = getattr(trainer, "history", None)
    if history is None:
        return {}
    row: dict[str, Any] = {}
    for key in history:
        values = history[key]
        if values and values[-1] is not None:
            row[key] = values[-1]
    return row


def epoch_metrics(trainer: Trainer) -> dict[str, float]:
    """Numbers to send to an experiment tracker for this epoch.

    This epoch's history row (without ``epoch``) plus the ``callback_metrics`` that callbacks
    added and the history does not hold (``lr-Adam`` from LearningRateMonitor, say).
    """
    out: dict[str, float] = {}
    row = epoch_record(trainer)
    history = getattr(trainer, "history", None) or {}
    extra = {k: v for k, v in trainer.callback_metrics.items() if k not in history}
    for key, value in {**row, **extra}.items():
        if key == "epoch":
            continue
        try:
            out[str(key)] = to_float(value, str(key))
        except (TypeError, ValueError):
            continue  # not a number: trackers take scalars only
    return out
