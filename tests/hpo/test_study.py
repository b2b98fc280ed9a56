"""tune(): real tiny studies of Trainer runs (grid, TPE, pruning, seeds) and its bad-input errors."""

import itertools
import math

import pytest
import torch
from torch import nn

from pfdtrain import Callback, Trainer
from pfdtrain.errors import ConfigurationError
from pfdtrain.history import History
from pfdtrain.hpo import OptunaPruning, objective_value, tune

optuna = pytest.importorskip("optuna")


class FitEnd(Callback):
    def __init__(self):
        self.fit_ended = False
        self.exception = None

    def on_fit_end(self, trainer):
        self.fit_ended = True

    def on_exception(self, trainer, exception):
        self.exception = exception


def make_builder(loaders, max_epochs=2, record=None):
    train, val = loaders

    def build(params):
        model = nn.Sequential(nn.Linear(2, params.get("hidden", 8)), nn.ReLU(), nn.Linear(params.get("hidden", 8), 2))
        callbacks = [FitEnd()]
        trainer = Trainer(model, lambda ps: torch.optim.SGD(ps, lr=params.get("lr", 0.1)), max_epochs=max_epochs,
                          callbacks=callbacks, enable_progress_bar=False)
        if record is not None:
            record.append((trainer, callbacks[0]))
        return trainer, train, val

    return build


def test_study_finds_the_better_of_two_learning_rates(loaders):
    study = tune(make_builder(loaders), space={"lr": [1e-5, 0.5], "hidden": [4, 8]}, sampler="grid", seed=0)
    assert len(study.trials) == 4
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert study.best_params["lr"] == 0.5
    slow = [t.value for t in study.trials if t.params["lr"] == 1e-5]
    fast = [t.value for t in study.trials if t.params["lr"] == 0.5]
    assert max(fast) < min(slow)
    assert study.best_trial.user_attrs["epochs"] == 2


def test_maximising_val_acc_with_the_last_epoch(loaders):
    record = []
    study = tune(make_builder(loaders, record=record), 3, space={"lr": ("log_float", 1e-2, 1.0)},
                 monitor="val_acc", mode="max", reduce="last", sampler="random", seed=1)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    for trial, (trainer, _) in zip(study.trials, record, strict=True):
        assert trial.value == trainer.history["val_acc"][-1]
        assert 0.0 <= trial.value <= 1.0


class PruneAfterFirstReport(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


def test_pruned_trials_end_fit_cleanly_and_are_marked_pruned(loaders):
    record = []
    study = tune(make_builder(loaders, max_epochs=5, record=record), 3, space={"lr": ("float", 0.01, 0.5)},
                 pruner=PruneAfterFirstReport(), sampler="random", seed=0)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.PRUNED] * 3
    assert len(record) == 3
    for trial, (trainer, fit_end) in zip(study.trials, record, strict=True):
        assert trainer.history.num_epochs == 1  # stopped after the first report, not at max_epochs
        assert trainer.should_stop
        assert fit_end.fit_ended and fit_end.exception is None  # fit returned normally
        assert trial.user_attrs["epochs"] == 1
        assert list(trial.intermediate_values) == [0]


def test_without_a_pruner_every_epoch_runs(loaders):
    record = []
    study = tune(make_builder(loaders, max_epochs=3, record=record), 2, space={"lr": [0.1, 0.2]}, pruner=None,
                 sampler="random", seed=0)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert all(trainer.history.num_epochs == 3 for trainer, _ in record)
    assert all(list(t.intermediate_values) == [0, 1, 2] for t in study.trials)


def test_grid_sampler_visits_every_grid_point_exactly_once(loaders):
    space = {"lr": [0.01, 0.1], "hidden": ("int", 2, 4)}
    study = tune(make_builder(loaders, max_epochs=1), 50, space=space, sampler="grid", seed=3)
    visited = [(t.params["lr"], t.params["hidden"]) for t in study.trials]
    assert len(visited) == 6
    assert sorted(visited) == sorted(itertools.product([0.01, 0.1], [2, 3, 4]))


def test_the_same_seed_repeats_a_study_and_another_seed_does_not(loaders):
    def run(seed):
        study = tune(make_builder(loaders), 3, space={"lr": ("log_float", 1e-3, 1.0)}, sampler="tpe", seed=seed)
        return [(t.params["lr"], t.value) for t in study.trials]

    first = run(7)
    assert run(7) == first
    assert [p for p, _ in run(8)] != [p for p, _ in first]


def test_build_may_take_the_trial_and_bring_its_own_pruning_callback(loaders):
    train, val = loaders
    own = []

    def build(trial):
        lr = trial.suggest_float("lr", 0.01, 0.5, log=True)
        model = nn.Linear(2, 2)
        pruning = OptunaPruning(trial, monitor="val_loss")
        own.append(pruning)
        return Trainer(model, lambda ps: torch.optim.SGD(ps, lr=lr), max_epochs=2, callbacks=[pruning],
                       enable_progress_bar=False), train, val

    study = tune(build, 2, pruner="none", seed=0)
    assert len(study.trials) == 2
    assert [p.last_value for p in own] == [t.intermediate_values[1] for t in study.trials]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": "minimise"}, r"mode must be one of 'max', 'min'; received 'minimise'"),
        ({"reduce": "mean"}, r"reduce must be one of 'best', 'last'"),
        ({"sampler": "cmaes"}, r"Unknown sampler 'cmaes'; valid names: 'grid', 'random', 'tpe'"),
        ({"pruner": "patient"}, r"Unknown pruner 'patient'; valid names: 'hyperband', 'median', 'none', "
                                r"'successive_halving'"),
        ({"n_trials": None}, "tune needs n_trials or timeout"),
        ({"space": None, "sampler": "grid"}, "sampler='grid' needs a search space"),
        ({"space": {"lr": ("log_float", 1e-3, 1.0)}, "sampler": "grid"}, "'lr' .* has no finite grid"),
        ({"space": {"lr": ("exp_float", 1e-3, 1.0)}},
         r"unknown kind 'exp_float'; valid kinds: 'categorical', 'float', 'int', 'log_float', 'log_int'"),
    ],
)
def test_bad_arguments_are_refused_before_any_trial(loaders, kwargs, match):
    options = {"n_trials": 2, "space": {"lr": [0.1]}, **kwargs}
    calls = []
    with pytest.raises(ConfigurationError, match=match):
        tune(lambda p: calls.append(p), **options)
    assert calls == []


def test_a_monitor_that_is_never_logged_fails_in_the_first_epoch_listing_the_metrics(loaders):
    record = []
    with pytest.raises(ConfigurationError, match=r"monitors 'val_f1'.*logged metrics: .*train_loss, val_acc, val_loss"):
        tune(make_builder(loaders, max_epochs=5, record=record), 3, space={"lr": [0.1]}, monitor="val_f1")
    assert len(record) == 1 and record[0][0].history.num_epochs == 1


def test_build_must_return_a_trainer_and_loaders(loaders):
    with pytest.raises(ConfigurationError, match=r"build must return \(trainer, train_loader\)"):
        tune(lambda params: (nn.Linear(2, 2), loaders[0]), 1, space={"lr": [0.1]})


def test_objective_value_best_and_last():
    history = History({"val_loss": [0.5, 0.3, None, 0.4, math.nan], "val_acc": [0.1, 0.6, None, 0.5, None]})
    assert objective_value(history, "val_loss", "min", "best") == (0.3, 1)
    assert objective_value(history, "val_acc", "max", "best") == (0.6, 1)
    assert objective_value(history, "val_acc", "max", "last") == (0.5, 3)
    value, epoch = objective_value(history, "val_loss", "min", "last")
    assert math.isnan(value) and epoch == 4
    assert math.isnan(objective_value(History({"val_loss": [math.nan]}), "val_loss")[0])
    with pytest.raises(ConfigurationError, match="logged metrics: val_acc, val_loss"):
        objective_value(history, "train_loss")
