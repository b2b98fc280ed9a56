"""Record the learning rate (and momentum) of every parameter group, per epoch or per step."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Literal

from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from pfdtrain.trainer.trainer import Trainer

INTERVALS = ("epoch", "step")


class LearningRateMonitor(Callback):
    """Put ``lr-<Optimizer>`` (one param group) or ``lr-<Optimizer>/pg<i>`` (several; ``i`` is the
    index in ``optimizer.param_groups``) into ``trainer.callback_metrics`` and :attr:`lrs`.

    ``logging_interval="epoch"`` records at the start of each epoch (the rate the epoch trains
    with); ``"step"`` records before the batches at which ``trainer.global_step`` is a multiple
    of ``trainer.log_every_n_steps`` (once per optimizer step). With ``log_momentum=True`` the
    ``momentum`` (SGD, RMSprop) or ``betas[0]`` (Adam family) is recorded as ``momentum-...``;
    groups without either record 0.0 (with a warning). Reading the values is pure Python: no
    device synchronisation.
    """

    def __init__(self, logging_interval: Literal["epoch", "step"] = "epoch", log_momentum: bool = False) -> None:
        if logging_interval not in INTERVALS:
            raise ConfigurationError(
                f"LearningRateMonitor(logging_interval={logging_interval!r}) is not valid; use 'epoch' or 'step'."
            )
        self.logging_interval = logging_interval
        self.log_momentum = bool(log_momentum)
        self.lrs: dict[str, list[float]] = {}
        self.momentums: dict[str, list[float]] = {}
        self._last_logged: int | None = None  # epoch or step of the last record (no duplicates on resume)
        self._warned_momentum = False

    @property
    def state_key(self) -> str:
        return self._generate_state_key(logging_interval=self.logging_interval, log_momentum=self.log_momentum)

    def on_fit_start(self, trainer: Trainer) -> None:
        if getattr(trainer, "optimizer", None) is None:
            raise ConfigurationError(
                "LearningRateMonitor needs trainer.optimizer, but the trainer has none; pass optimizer= to the Trainer."
            )

    def on_train_epoch_start(self, trainer: Trainer) -> None:
        if self.logging_interval == "epoch":
            self._record(trainer, int(trainer.current_epoch))

    def on_train_batch_start(self, trainer: Trainer, batch: Any, batch_idx: int) -> None:
        if self.logging_interval != "step":
            return
        step = int(trainer.global_step)
        every = int(getattr(trainer, "log_every_n_steps", 1) or 1)
        if step % every == 0:
            self._record(trainer, step)

    def _record(self, trainer: Trainer, when: int) -> None:
        optimizer = trainer.optimizer
        if when == self._last_logged or optimizer is None:
            return  # the same epoch/step again (a resumed epoch, several batches per step)
        self._last_logged = when
        values = self.extract(optimizer)
        trainer.callback_metrics.update(values)
        for name, value in values.items():
            target = self.momentums if name.startswith("momentum-") else self.lrs
            target.setdefault(name, []).append(value)

    def extract(self, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        """The current values, named as they are recorded."""
        prefix = type(optimizer).__name__
        groups = optimizer.param_groups
        out: dict[str, float] = {}
        for i, group in enumerate(groups):
            suffix = f"/pg{i}" if len(groups) > 1 else ""
            out[f"lr-{prefix}{suffix}"] = float(group["lr"])
            if self.log_momentum:
                out[f"momentum-{prefix}{suffix}"] = self._momentum(group, prefix)
        return out

    def _momentum(self, group: dict[str, Any], optimizer_name: str) -> float:
        if "momentum" in group:
            return float(group["momentum"])
        if "betas" in group:
            return float(group["betas"][0])
        if not self._warned_momentum:
            self._warned_momentum = True
            warnings.warn(
                f"LearningRateMonitor(log_momentum=True): {optimizer_name} has no momentum or betas; "
                "recording 0.0.",
                stacklevel=3,
            )
        return 0.0

    def state_dict(self) -> dict[str, Any]:
        return {
            "lrs": {k: list(v) for k, v in self.lrs.items()},
            "momentums": {k: list(v) for k, v in self.momentums.items()},
            "last_logged": self._last_logged,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.lrs = {str(k): [float(x) for x in v] for k, v in (state.get("lrs") or {}).items()}
        self.momentums = {str(k): [float(x) for x in v] for k, v in (state.get("momentums") or {}).items()}
        last = state.get("last_logged")
        self._last_logged = None if last is None else int(last)
