"""Optuna pruning as an ordinary pfdtrain callback.

Why a callback and not an exception from inside the loop: raising ``optuna.TrialPruned`` in the
middle of ``fit`` would skip ``on_fit_end`` (loggers never close, checkpoints never finish) and
run ``on_exception`` hooks for what is a normal outcome. The callback only reports and sets
``trainer.should_stop``; the loop ends the epoch cleanly, ``fit`` returns, and then the code
that owns the trial calls :meth:`OptunaPruning.raise_if_pruned` (``tune`` does that for you).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    import optuna

    from pfdtrain.trainer.trainer import Trainer


class OptunaPruning(Callback):
    """Report ``monitor`` to ``trial`` after each validated epoch; stop when the pruner says so.

    The value is this epoch's entry in ``trainer.history`` (the step is ``trainer.current_epoch``),
    so an epoch that skipped validation (``check_val_every_n_epoch``) reports nothing rather than
    a stale ``val_*`` value. After ``fit`` returns, :attr:`pruned` tells whether training was cut
    short, and :meth:`raise_if_pruned` marks the trial pruned.
    """

    def __init__(self, trial: optuna.Trial, monitor: str = "val_loss") -> None:
        self.trial = trial
        self.monitor = monitor
        self.pruned = False
        self.pruned_epoch: int | None = None
        self.last_value: float | None = None

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        history = trainer.history
        value = history.last(self.monitor) if self.monitor in history else None
        if value is None:
            self._check_monitor_exists(trainer)
            return
        self.last_value = float(value)
        self.trial.report(self.last_value, step=trainer.current_epoch)
        if self.trial.should_prune():
            self.pruned = True
            self.pruned_epoch = trainer.current_epoch
            trainer.should_stop = True

    def raise_if_pruned(self) -> None:
        """Raise ``optuna.TrialPruned`` if the pruner stopped training; call it after ``fit``."""
        if not self.pruned:
            return
        from pfdtrain.hpo._optuna import import_optuna

        optuna = import_optuna()
        raise optuna.TrialPruned(
            f"Trial {self.trial.number} pruned at epoch {self.pruned_epoch} "
            f"({self.monitor}={self.last_value:.6g})."
        )

    def _check_monitor_exists(self, trainer: Trainer) -> None:
        """Fail in the first epoch, not after a whole study, when ``monitor`` is never logged."""
        if self.monitor in trainer.history:
            return  # logged on other epochs (validation every n-th epoch)
        history = trainer.history
        validated = any(k.startswith("val_") and history.last(k) is not None for k in history)
        if validated or trainer.val_dataloader is None or not self.monitor.startswith("val_"):
            available = sorted(k for k in history if k != "epoch")
            hint = "" if trainer.val_dataloader is not None else " (no val_loader was given to fit)"
            raise ConfigurationError(
                f"OptunaPruning monitors {self.monitor!r}, which this run does not log{hint}; "
                f"logged metrics: {', '.join(available)}."
            )
