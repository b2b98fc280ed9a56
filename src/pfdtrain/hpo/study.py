"""``tune``: an Optuna study whose trials are ``pfdtrain.Trainer`` runs.

Why this shape: the caller already knows how to build a Trainer; ``tune`` only adds what every
study needs and is easy to get wrong by hand: the sampler/pruner by name with one seed, the
pruning callback wired into the trainer, a pruned trial that still ends its ``fit`` cleanly, a
monitor checked in the first epoch, and one documented rule for the trial's value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pfdtrain.callbacks.base import CallbackList
from pfdtrain.errors import ConfigurationError
from pfdtrain.history import History
from pfdtrain.hpo._optuna import import_optuna, make_pruner, make_sampler
from pfdtrain.hpo.pruning import OptunaPruning
from pfdtrain.hpo.space import SearchSpace

if TYPE_CHECKING:  # pragma: no cover
    import optuna

    from pfdtrain.trainer.trainer import Trainer

MODES = ("max", "min")
REDUCTIONS = ("best", "last")

#: What ``build`` returns: ``(trainer, train_loader)`` or ``(trainer, train_loader, val_loader)``.
TrialSetup = Sequence[Any]


def tune(
    build: Callable[[Any], TrialSetup],
    n_trials: int | None = None,
    *,
    space: Mapping[str, Any] | SearchSpace | None = None,
    monitor: str = "val_loss",
    mode: str = "min",
    reduce: str = "best",
    sampler: str | optuna.samplers.BaseSampler = "tpe",
    pruner: str | optuna.pruners.BasePruner | None = "median",
    seed: int | None = None,
    timeout: float | None = None,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    load_if_exists: bool = False,
    catch: Sequence[type[Exception]] = (),
    show_progress_bar: bool = False,
) -> optuna.Study:
    """Run an Optuna study in which each trial builds and fits a :class:`pfdtrain.Trainer`.

    Args:
        build: without ``space``, ``build(trial)`` calls ``trial.suggest_*`` itself; with
            ``space``, ``build(params)`` receives the sampled values as a dict. Either way it
            returns ``(trainer, train_loader[, val_loader])``; ``tune`` adds an
            :class:`OptunaPruning` callback to the trainer unless it already has one.
        n_trials / timeout: stop after this many trials / seconds. One of them is required,
            except with ``sampler="grid"``, which stops when every grid point has run once.
        space: a search-space spec (see :mod:`pfdtrain.hpo.space`); needed for ``"grid"``.
        monitor / mode: the ``trainer.history`` metric to optimise (``val_loss``, ``val_acc``
            as a fraction, ``train_loss``, ...) and ``"min"`` or ``"max"``.
        reduce: a trial's value is the ``"best"`` epoch's ``monitor`` (what you get back when
            a checkpoint callback keeps the best model; the default) or the ``"last"`` epoch's.
            Epochs that did not log ``monitor`` and NaN values are ignored for ``"best"``.
        sampler: ``"tpe"``, ``"random"``, ``"grid"`` (seeded with ``seed``) or an Optuna sampler.
        pruner: ``"median"`` (Optuna's default), ``"hyperband"``, ``"successive_halving"``,
            ``"none"``/``None``, or an Optuna pruner. A pruned trial's ``fit`` still returns
            normally (``on_fit_end`` runs); the trial is then marked PRUNED.
        seed: seeds a named sampler, and every RNG (``seed_everything(seed + trial.number)``)
            before ``build`` runs, so model initialisation repeats too.
        storage / study_name / load_if_exists: as ``optuna.create_study`` (resume, share).
        catch / show_progress_bar: as ``Study.optimize``. Other exceptions end the study.

    Returns:
        the ``optuna.Study`` (``best_params``, ``best_value``, ``trials``, ...). With ``space``,
        choices Optuna cannot store appear as labels; ``SearchSpace(space).decode`` maps back.
        Each trial carries user attributes ``epochs`` (epochs run) and ``best_epoch``.
    """
    _check_choice("mode", mode, MODES)
    _check_choice("reduce", reduce, REDUCTIONS)
    if not callable(build):
        raise ConfigurationError(f"build must be a function trial -> (trainer, train_loader, val_loader); "
                                 f"received {type(build).__name__}.")
    optuna_lib = import_optuna("pfdtrain.hpo.tune")
    parsed = SearchSpace(space) if space is not None else None
    grid = parsed.grid() if parsed is not None and sampler == "grid" else None
    if n_trials is None and timeout is None and sampler != "grid" and not isinstance(
        sampler, optuna_lib.samplers.GridSampler
    ):
        raise ConfigurationError(
            "tune needs n_trials or timeout (only a grid sampler knows when it is done)."
        )
    study = optuna_lib.create_study(
        storage=storage,
        sampler=make_sampler(sampler, seed, grid),
        pruner=make_pruner(pruner),
        study_name=study_name,
        direction="minimize" if mode == "min" else "maximize",
        load_if_exists=load_if_exists,
    )

    def objective(trial: optuna.Trial) -> float:
        if seed is not None:
            from pfdtrain.seed import seed_everything

            seed_everything((seed + trial.number) % 2**32)
        setup = build(parsed.suggest(trial) if parsed is not None else trial)
        trainer, train_loader, val_loader = _unpack(setup)
        pruning = _attach_pruning(trainer, trial, monitor)
        history = trainer.fit(train_loader, val_loader)
        trial.set_user_attr("epochs", history.num_epochs)
        pruning.raise_if_pruned()
        value, epoch = objective_value(history, monitor, mode, reduce)
        trial.set_user_attr("best_epoch" if reduce == "best" else "last_epoch", epoch)
        return value

    study.optimize(objective, n_trials=n_trials, timeout=timeout, catch=tuple(catch),
                   show_progress_bar=show_progress_bar)
    return study


def objective_value(history: History, monitor: str, mode: str = "min", reduce: str = "best") -> tuple[float, int]:
    """The trial value taken from ``history`` and the epoch it comes from (see :func:`tune`)."""
    if monitor not in history:
        available = sorted(k for k in history if k != "epoch")
        raise ConfigurationError(
            f"tune monitors {monitor!r}, which the run did not log; logged metrics: "
            f"{', '.join(available) or 'none (no epoch ran)'}."
        )
    logged = [(e, float(v)) for e, v in enumerate(history[monitor]) if v is not None]
    if not logged:
        raise ConfigurationError(f"{monitor!r} was never logged in {history.num_epochs} epoch(s).")
    if reduce == "last":
        epoch, value = logged[-1]
        return value, epoch
    finite = [(e, v) for e, v in logged if not math.isnan(v)]
    if not finite:
        return math.nan, logged[-1][0]  # Optuna records a NaN value as a failed trial
    pick = min if mode == "min" else max
    epoch, value = pick(finite, key=lambda item: item[1])
    return value, epoch


def _check_choice(name: str, value: Any, valid: Sequence[str]) -> None:
    if value not in valid:
        raise ConfigurationError(f"{name} must be one of {', '.join(repr(v) for v in valid)}; received {value!r}.")


def _unpack(setup: Any) -> tuple[Trainer, Any, Any]:
    from pfdtrain.trainer.trainer import Trainer

    if isinstance(setup, (tuple, list)) and len(setup) in (2, 3) and isinstance(setup[0], Trainer):
        return setup[0], setup[1], setup[2] if len(setup) == 3 else None
    raise ConfigurationError(
        "build must return (trainer, train_loader) or (trainer, train_loader, val_loader) with a "
        f"pfdtrain.Trainer first; received {type(setup).__name__} "
        f"{[type(x).__name__ for x in setup] if isinstance(setup, (tuple, list)) else ''}".rstrip() + "."
    )


def _attach_pruning(trainer: Trainer, trial: optuna.Trial, monitor: str) -> OptunaPruning:
    """The trainer's own OptunaPruning for this trial, or a new one placed before checkpoint writers."""
    for cb in trainer.callbacks.of_type(OptunaPruning):
        if cb.trial is trial or getattr(cb.trial, "number", None) == trial.number:
            return cb
    pruning = OptunaPruning(trial, monitor)
    callbacks = list(trainer.callbacks)
    writers = [i for i, cb in enumerate(callbacks) if getattr(cb, "writes_checkpoints", False)]
    callbacks.insert(writers[0] if writers else len(callbacks), pruning)
    trainer.callbacks = CallbackList(callbacks)
    return pruning
