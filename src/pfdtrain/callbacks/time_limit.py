"""Stop training cleanly when a wall-clock budget is spent (cluster job limits, say)."""

from __future__ import annotations

import logging
import math
import re
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer

log = logging.getLogger(__name__)

ACCEPTED = (
    "seconds as a positive number (3600), a positive datetime.timedelta(hours=1), "
    "or a 'DD:HH:MM:SS' string ('00:01:00:00')"
)


class TimeLimit(Callback):
    """Set ``trainer.should_stop`` once ``max_duration`` of fit() time has elapsed.

    Checked after every training batch and every epoch; the loop then ends cleanly (validation,
    epoch-end hooks and checkpoints still run). The elapsed time is part of :meth:`state_dict`,
    so a run resumed from a checkpoint continues counting instead of starting a fresh budget.
    """

    def __init__(self, max_duration: float | timedelta | str) -> None:
        self.max_duration = parse_duration(max_duration)
        # Seconds as given: a timedelta keeps only microseconds.
        self._max_seconds = (
            float(max_duration) if isinstance(max_duration, (int, float)) else self.max_duration.total_seconds()
        )
        self._elapsed_before = 0.0  # seconds of earlier fit() calls / the run a checkpoint came from
        self._started_at: float | None = None
        self.stopped = False

    @property
    def max_seconds(self) -> float:
        return self._max_seconds

    @property
    def time_elapsed(self) -> float:
        """Seconds counted so far (including a resumed run's earlier time)."""
        running = time.monotonic() - self._started_at if self._started_at is not None else 0.0
        return self._elapsed_before + running

    @property
    def time_remaining(self) -> float:
        return max(0.0, self.max_seconds - self.time_elapsed)

    def on_fit_start(self, trainer: Trainer) -> None:
        self._started_at = time.monotonic()

    def on_train_batch_end(self, trainer: Trainer, outputs: Any, batch: Any, batch_idx: int) -> None:
        self._check(trainer)

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        self._check(trainer)

    def on_fit_end(self, trainer: Trainer) -> None:
        self._freeze()

    def on_exception(self, trainer: Trainer, exception: BaseException) -> None:
        self._freeze()

    def _freeze(self) -> None:
        self._elapsed_before = self.time_elapsed
        self._started_at = None

    def _check(self, trainer: Trainer) -> None:
        if self.time_elapsed >= self.max_seconds and not trainer.should_stop:
            trainer.should_stop = True
            self.stopped = True
            if getattr(trainer, "is_global_zero", True):
                log.info(
                    "TimeLimit: %.1fs elapsed (limit %s); stopping training.", self.time_elapsed, self.max_duration
                )

    def state_dict(self) -> dict[str, Any]:
        return {"time_elapsed": self.time_elapsed, "stopped": self.stopped}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._elapsed_before = float(state.get("time_elapsed", 0.0))
        self.stopped = bool(state.get("stopped", False))
        if self._started_at is not None:  # loaded while running: count from now
            self._started_at = time.monotonic()


def parse_duration(value: Any) -> timedelta:
    """``max_duration`` as a positive timedelta; anything else is a ConfigurationError."""
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or value <= 0:
            raise _bad(value)
        return timedelta(seconds=value)
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+):(\d+):(\d+):(\d+)\s*", value)
        if not match:
            raise _bad(value)
        days, hours, minutes, seconds = (int(g) for g in match.groups())
        result = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    else:
        raise _bad(value)
    if result.total_seconds() <= 0:
        raise _bad(value)
    return result


def _bad(value: Any) -> ConfigurationError:
    return ConfigurationError(f"TimeLimit(max_duration={value!r}) is not valid; give {ACCEPTED}.")
