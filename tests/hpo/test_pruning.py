"""OptunaPruning on a real Trainer with a recording stand-in trial (no study needed)."""

import pytest
import torch
from torch import nn

from pfdtrain import Trainer
from pfdtrain.errors import ConfigurationError
from pfdtrain.hpo import OptunaPruning


class RecordingTrial:
    """Records report() calls; should_prune() answers True from step ``prune_from`` on."""

    number = 4

    def __init__(self, prune_from=None):
        self.reports = []
        self.prune_from = prune_from

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.prune_from is not None and self.reports[-1][0] >= self.prune_from


def fit(loaders, trial, max_epochs=4, monitor="val_loss", with_val=True, **trainer_kw):
    train, val = loaders
    pruning = OptunaPruning(trial, monitor)
    trainer = Trainer(nn.Linear(2, 2), lambda ps: torch.optim.SGD(ps, lr=0.1), max_epochs=max_epochs,
                      callbacks=[pruning], enable_progress_bar=False, **trainer_kw)
    history = trainer.fit(train, val if with_val else None)
    return trainer, history, pruning


def test_reports_every_epoch_and_stops_when_the_pruner_says_so(loaders):
    trial = RecordingTrial(prune_from=1)
    trainer, history, pruning = fit(loaders, trial)
    assert history.num_epochs == 2
    assert trial.reports == [(0, history["val_loss"][0]), (1, history["val_loss"][1])]
    assert pruning.pruned and pruning.pruned_epoch == 1 and trainer.should_stop
    optuna = pytest.importorskip("optuna")
    with pytest.raises(optuna.TrialPruned, match=r"Trial 4 pruned at epoch 1 \(val_loss="):
        pruning.raise_if_pruned()


def test_not_pruned_runs_to_the_end_and_raises_nothing(loaders):
    trial = RecordingTrial()
    _, history, pruning = fit(loaders, trial, max_epochs=3, monitor="train_loss")
    assert [step for step, _ in trial.reports] == [0, 1, 2]
    assert [value for _, value in trial.reports] == history["train_loss"]
    assert not pruning.pruned
    pruning.raise_if_pruned()


def test_epochs_without_validation_report_nothing_rather_than_a_stale_value(loaders):
    trial = RecordingTrial()
    _, history, _ = fit(loaders, trial, max_epochs=4, check_val_every_n_epoch=2)
    assert [step for step, _ in trial.reports] == [1, 3]
    assert [value for _, value in trial.reports] == [history["val_loss"][1], history["val_loss"][3]]


@pytest.mark.parametrize("with_val", [True, False])
def test_an_unlogged_monitor_fails_in_the_first_epoch(loaders, with_val):
    match = r"monitors 'val_f1', which this run does not log" + ("" if with_val else r" \(no val_loader")
    with pytest.raises(ConfigurationError, match=match):
        fit(loaders, RecordingTrial(), monitor="val_f1", with_val=with_val)
