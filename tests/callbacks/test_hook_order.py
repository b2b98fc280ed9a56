"""Pins the complete hook sequence of a 2-epoch run with validation (written out by hand)."""

import pytest
import torch

from pfd_testing import make_loader, make_model
from pfdtrain import Callback, Trainer
from pfdtrain.callbacks.base import HOOKS


class Recorder(Callback):
    """Logs every hook call as 'name:hook(batch_idx)'."""

    def __init__(self, log, name="rec"):
        self.log, self.name = log, name

    @property
    def state_key(self):
        return self.name


def _make_hook(hook):
    def method(self, trainer, *args):
        batch_hooks = ("on_train_batch_start", "on_train_batch_end", "on_validation_batch_start",
                       "on_validation_batch_end")
        self.log.append(f"{self.name}:{hook}" + (f"({args[-1]})" if hook in batch_hooks else ""))

    return method


for _hook in HOOKS:
    setattr(Recorder, _hook, _make_hook(_hook))


def _epoch(e):
    train = []
    for b in range(2):
        train += [f"on_train_batch_start({b})", "on_before_backward", "on_before_optimizer_step",
                  f"on_train_batch_end({b})"]
    val = ["on_validation_start"]
    for b in range(2):
        val += [f"on_validation_batch_start({b})", f"on_validation_batch_end({b})"]
    val += ["on_validation_end"]
    return ["on_train_epoch_start", *train, *val, "on_train_epoch_end"]


def test_full_hook_sequence_of_two_epochs_with_validation():
    log = []
    model = make_model()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), max_epochs=2,
                      callbacks=[Recorder(log)], enable_progress_bar=False)
    trainer.fit(make_loader(n=16, batch_size=8), make_loader(n=16, batch_size=8, seed=1))
    expected = ["on_fit_start", *_epoch(0), *_epoch(1), "on_fit_end"]
    assert log == [f"rec:{h}" for h in expected]


def test_hooks_run_in_the_order_callbacks_were_given():
    log = []
    model = make_model()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), max_epochs=1,
                      callbacks=[Recorder(log, "b"), Recorder(log, "a")], enable_progress_bar=False)
    trainer.fit(make_loader(n=8, batch_size=8))
    assert log[:2] == ["b:on_fit_start", "a:on_fit_start"]
    assert log[-2:] == ["b:on_fit_end", "a:on_fit_end"]


def test_checkpoint_writers_run_after_the_others_so_checkpoints_hold_their_state():
    log = []

    class Writer(Recorder):
        writes_checkpoints = True

    model = make_model()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), max_epochs=1,
                      callbacks=[Writer(log, "w"), Recorder(log, "r")], enable_progress_bar=False)
    trainer.fit(make_loader(n=8, batch_size=8))
    assert log[:2] == ["r:on_fit_start", "w:on_fit_start"]


def test_exception_hook_runs_and_the_exception_propagates():
    seen = []

    class Boom(Callback):
        def on_train_batch_end(self, trainer, outputs, batch, batch_idx):
            raise RuntimeError("boom")

        def on_exception(self, trainer, exception):
            seen.append(str(exception))

    model = make_model()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), max_epochs=1,
                      callbacks=[Boom()], enable_progress_bar=False)
    with pytest.raises(RuntimeError, match=r"^boom$"):  # not swallowed
        trainer.fit(make_loader())
    assert seen == ["boom"]


def test_should_stop_mid_epoch_ends_after_that_batch_and_still_runs_end_hooks():
    log = []

    class StopAtBatch1(Recorder):
        def on_train_batch_end(self, trainer, outputs, batch, batch_idx):
            self.log.append(f"stop:on_train_batch_end({batch_idx})")
            if batch_idx == 1:
                trainer.should_stop = True

    model = make_model()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), max_epochs=3,
                      callbacks=[StopAtBatch1(log, "stop")], enable_progress_bar=False)
    trainer.fit(make_loader(n=32, batch_size=8))
    assert trainer.global_step == 2 and trainer.history.num_epochs == 1
    assert log[-2:] == ["stop:on_train_epoch_end", "stop:on_fit_end"]
