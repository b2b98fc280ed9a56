"""Stop training when a monitored metric stops improving."""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any, Literal

import torch

from pfdtrain.callbacks._utils import check_mode, is_improvement, monitored_value
from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


class EarlyStopping(Callback):
    """Set ``trainer.should_stop`` after ``patience`` epochs without improvement of ``monitor``.

    Checked in ``on_train_epoch_end``, after validation. An epoch improves when
    ``current < best - min_delta`` (``mode="min"``) or ``current > best + min_delta`` (``"max"``).
    A NaN/inf value stops at once when ``check_finite`` (training has diverged; waiting is futile).
    Epochs in which the metric was not computed (validation every n-th epoch) are not counted.

    With ``restore_best_weights=True`` a CPU copy of the best weights is kept and loaded back into
    the model in ``on_fit_end`` when this callback stopped the run. Everything the decision depends
    on is in :meth:`state_dict`, so a resumed run stops at the same epoch as an uninterrupted one.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: Literal["min", "max"] = "min",
        patience: int = 3,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        check_finite: bool = True,
        verbose: bool = False,
    ) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ConfigurationError(
                f"EarlyStopping(monitor=...) must be a metric name such as 'val_loss'; received {monitor!r}."
            )
        self.mode = check_mode("EarlyStopping", mode)
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise ConfigurationError(f"EarlyStopping(patience=...) must be an int >= 0; received {patience!r}.")
        numeric = isinstance(min_delta, (int, float)) and not isinstance(min_delta, bool)
        if not numeric or not min_delta >= 0 or math.isinf(min_delta):
            raise ConfigurationError(
                f"EarlyStopping(min_delta=...) must be a finite number >= 0 (the direction comes from mode); "
                f"received {min_delta!r}."
            )
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.restore_best_weights = bool(restore_best_weights)
        self.check_finite = bool(check_finite)
        self.verbose = bool(verbose)
        self.wait_count = 0
        self.best_score = math.inf if mode == "min" else -math.inf
        self.stopped_epoch: int | None = None
        self.stop_reason: str | None = None
        self.best_weights: dict[str, torch.Tensor] | None = None

    @property
    def state_key(self) -> str:
        return self._generate_state_key(monitor=self.monitor, mode=self.mode)

    # ------------------------------------------------------------------ hooks

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        value = monitored_value(trainer, self.monitor, "EarlyStopping", epoch_end=True)
        if value is None:
            return
        epoch = int(trainer.current_epoch)
        if self.check_finite and not math.isfinite(value):
            self._stop(trainer, epoch, f"{self.monitor} = {value} is not finite; stopping at once.")
            return
        if is_improvement(value, self.best_score, self.mode, self.min_delta):
            self.best_score = value
            self.wait_count = 0
            if self.restore_best_weights:
                self.best_weights = _cpu_copy(_model(trainer).state_dict())
            self._say(trainer, f"EarlyStopping: {self.monitor} improved to {value:.6g} at epoch {epoch}.")
            return
        self.wait_count += 1
        if self.wait_count >= self.patience:
            self._stop(
                trainer,
                epoch,
                f"{self.monitor} did not improve for {self.wait_count} epoch(s) "
                f"(best {self.best_score:.6g}); stopping.",
            )

    def on_fit_end(self, trainer: Trainer) -> None:
        if self.restore_best_weights and self.stopped_epoch is not None and self.best_weights is not None:
            _model(trainer).load_state_dict(self.best_weights)
            self._say(
                trainer, f"EarlyStopping: restored the weights of the best {self.monitor} ({self.best_score:.6g})."
            )

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        return {
            "wait_count": self.wait_count,
            "best_score": self.best_score,
            "stopped_epoch": self.stopped_epoch,
            "stop_reason": self.stop_reason,
            "best_weights": None if self.best_weights is None else dict(self.best_weights),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.wait_count = int(state.get("wait_count", 0))
        self.best_score = float(state.get("best_score", self.best_score))
        self.stopped_epoch = state.get("stopped_epoch")
        self.stop_reason = state.get("stop_reason")
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else _cpu_copy(weights)

    # ------------------------------------------------------------------ helpers

    def _stop(self, trainer: Trainer, epoch: int, reason: str) -> None:
        trainer.should_stop = True
        self.stopped_epoch = epoch
        self.stop_reason = reason
        self._say(trainer, f"EarlyStopping at epoch {epoch}: {reason}")

    def _say(self, trainer: Trainer, message: str) -> None:
        if self.verbose and getattr(trainer, "is_global_zero", True):
            print(message)


def _model(trainer: Trainer) -> torch.nn.Module:
    model = getattr(trainer, "unwrapped_model", None)
    return model if model is not None else trainer.model


def _cpu_copy(state: dict[str, Any]) -> dict[str, Any]:
    """Detached CPU clones: later optimizer steps must not change the kept copy."""
    return {
        k: v.detach().to("cpu", copy=True) if isinstance(v, torch.Tensor) else copy.deepcopy(v)
        for k, v in state.items()
    }
