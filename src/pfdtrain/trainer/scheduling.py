"""Learning-rate scheduler configuration: interval, monitored metric, plateau handling."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau

from pfdtrain.errors import ConfigurationError

INTERVALS = ("epoch", "step")
Interval: TypeAlias = Literal["epoch", "step"]


class LRSchedulerLike(Protocol):
    """What the Trainer needs of a scheduler: ``step()`` (``ReduceLROnPlateau.step(metric)``
    included) and a state that checkpoints save and restore. Every torch scheduler has these."""

    def step(self, *args: Any, **kwargs: Any) -> object: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: dict[str, Any], /) -> None: ...


#: What ``Trainer(scheduler=...)`` takes: a scheduler, a factory ``f(optimizer) -> scheduler``, or a
#: dict ``{"scheduler": ..., "interval": "epoch"|"step", "monitor": name, "frequency": n}``.
SchedulerLike: TypeAlias = (
    LRSchedulerLike | Callable[[torch.optim.Optimizer], LRSchedulerLike] | Mapping[str, Any]
)


@dataclass
class SchedulerConfig:
    scheduler: LRSchedulerLike
    interval: str = "epoch"
    monitor: str | None = None
    frequency: int = 1
    _warned_missing: bool = False

    @property
    def is_plateau(self) -> bool:
        return isinstance(self.scheduler, ReduceLROnPlateau)

    def step(self, metrics: Mapping[str, float]) -> None:
        if not self.is_plateau:
            self.scheduler.step()
            return
        value = self._monitored_value(metrics)
        if value is not None:
            self.scheduler.step(value)

    def _monitored_value(self, metrics: Mapping[str, float]) -> float | None:
        if self.monitor is not None and self.monitor in metrics:
            return metrics[self.monitor]
        fallback = "val_loss" if "val_loss" in metrics else "train_loss"
        if self.interval == "step":
            fallback = "train_loss_step"
        if self.monitor is not None and not self._warned_missing:
            self._warned_missing = True
            warnings.warn(
                f"ReduceLROnPlateau monitors {self.monitor!r}, which was not logged (logged: "
                f"{sorted(metrics)}); stepping with {fallback!r} instead. Pass "
                "scheduler_monitor= with one of the logged names.",
                stacklevel=3,
            )
        return metrics.get(fallback)


def build_scheduler_config(
    scheduler: SchedulerLike | None,
    optimizer: torch.optim.Optimizer,
    interval: str,
    monitor: str | None,
) -> SchedulerConfig | None:
    """Accept a scheduler, a factory ``f(optimizer)``, or a dict ``{"scheduler", "interval", "monitor"}``."""
    if scheduler is None:
        return None
    # Checked as it goes: a dict unwrapped, a factory called, then an object with step().
    candidate: Any = scheduler
    if isinstance(candidate, Mapping):
        unknown = set(candidate) - {"scheduler", "interval", "monitor", "frequency"}
        if unknown or "scheduler" not in candidate:
            raise ConfigurationError(
                f"A scheduler dict needs the key 'scheduler' and may have 'interval', 'monitor', "
                f"'frequency'; received keys {sorted(candidate)}."
            )
        interval = candidate.get("interval", interval)
        monitor = candidate.get("monitor", monitor)
        frequency = candidate.get("frequency", 1)
        candidate = candidate["scheduler"]
    else:
        frequency = 1
    if callable(candidate) and not hasattr(candidate, "step"):
        candidate = _call_factory(candidate, optimizer)
    if not hasattr(candidate, "step"):
        raise ConfigurationError(
            f"scheduler must be a torch LR scheduler, a function optimizer -> scheduler, or a dict "
            f"{{'scheduler': ..., 'interval': 'epoch'|'step'}}; received {type(candidate).__name__}."
        )
    if getattr(candidate, "optimizer", optimizer) is not optimizer:
        raise ConfigurationError(
            "The scheduler was built for a different optimizer than the one the Trainer uses. "
            "Pass a factory (lambda opt: torch.optim.lr_scheduler.StepLR(opt, 10)) so the Trainer "
            "builds it on its own optimizer."
        )
    if interval not in INTERVALS:
        raise ConfigurationError(
            f"scheduler interval must be one of {list(INTERVALS)}; received {interval!r}."
        )
    if not isinstance(frequency, int) or frequency < 1:
        raise ConfigurationError(f"scheduler frequency must be an int >= 1; received {frequency!r}.")
    return SchedulerConfig(candidate, interval=interval, monitor=monitor, frequency=frequency)


def _call_factory(factory: Callable[[torch.optim.Optimizer], Any], optimizer: torch.optim.Optimizer) -> Any:
    return factory(optimizer)
