"""adapt_callback: user subclasses of both legacy callback APIs driven by the core Trainer."""

import pytest
import torch

from pfd_testing import make_loader, make_model
from pfdtrain import Callback, Trainer
from pfdtrain.compat import callbacks as old_api
from pfdtrain.compat import cnn_callbacks as new_api
from pfdtrain.compat.callbacks import adapt_callback


def _fit(callbacks, max_epochs=3, val=True):
    model = make_model(dropout=0.0)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), callbacks=callbacks,
                      max_epochs=max_epochs, enable_progress_bar=False)
    trainer.fit(make_loader(), make_loader(n=16, seed=1) if val else None)
    return trainer, model


class OldRecorder(old_api.Callback):
    def __init__(self, stop_at=None):
        self.events, self.stop_at = [], stop_at

    def on_train_begin(self, trainer):
        self.events.append(("train_begin", trainer.state.epoch))

    def on_epoch_begin(self, trainer, epoch):
        self.events.append(("epoch_begin", epoch))

    def on_epoch_end(self, trainer, epoch, metrics):
        self.events.append(("epoch_end", epoch, dict(metrics), trainer.state.epoch, trainer.model))
        if epoch == self.stop_at:
            raise StopIteration("Early stopping")

    def on_train_end(self, trainer):
        self.events.append(("train_end",))


def test_old_api_subclass_gets_every_hook_with_legacy_arguments():
    rec = OldRecorder()
    trainer, model = _fit([rec])
    names = [e[0] for e in rec.events]
    assert names == ["train_begin"] + ["epoch_begin", "epoch_end"] * 3 + ["train_end"]
    ends = [e for e in rec.events if e[0] == "epoch_end"]
    for epoch, (_, e, metrics, state_epoch, seen_model) in enumerate(ends):
        assert e == state_epoch == epoch and seen_model is model
        assert list(metrics) == ["train_loss", "train_acc", "val_loss", "val_acc"]
        assert metrics["val_acc"] == pytest.approx(100 * trainer.history["val_acc"][epoch])  # percent
        assert metrics["train_loss"] == pytest.approx(trainer.history["train_loss"][epoch])


def test_old_api_stop_iteration_stops_cleanly_and_end_hooks_run():
    rec = OldRecorder(stop_at=1)
    trainer, _ = _fit([rec], max_epochs=5)
    assert trainer.should_stop and trainer.history.num_epochs == 2
    assert rec.events[-1] == ("train_end",)


def test_old_api_plain_callable_and_legacy_state_view():
    seen = []

    def callback(trainer, metrics):
        seen.append((trainer.state.epoch, trainer.state.history["train_acc"][-1], metrics["train_acc"]))
        trainer.should_stop = trainer.state.epoch == 1  # writes go to the core trainer

    trainer, _ = _fit([callback], max_epochs=4, val=False)
    assert [s[0] for s in seen] == [0, 1] and trainer.history.num_epochs == 2
    assert all(a == pytest.approx(b) for _, a, b in seen)


def test_old_api_model_checkpoint_and_lr_scheduler_work_on_the_core(tmp_path, capsys):
    model = make_model(dropout=0.0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    ckpt = old_api.ModelCheckpoint(tmp_path / "best.pth", monitor="val_acc", mode="max", save_best_only=False)
    Trainer(model, opt, callbacks=[old_api.LearningRateScheduler(sched), ckpt], max_epochs=2,
            enable_progress_bar=False).fit(make_loader(), make_loader(n=16, seed=1))
    saved = torch.load(tmp_path / "best.pth", weights_only=True)
    assert list(saved) == ["epoch", "model_state_dict", "optimizer_state_dict", "metrics", "best_value"]
    assert saved["epoch"] == 1 and opt.param_groups[0]["lr"] == pytest.approx(0.025)
    assert "Learning rate changed: 0.100000 -> 0.050000" in capsys.readouterr().out


class NewRecorder(new_api.Callback):
    def __init__(self):
        self.events = []
        self.should_stop = False

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin", logs))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch, logs))

    def on_batch_begin(self, batch, logs=None):
        self.events.append(("batch_begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, dict(logs)))
        self.should_stop = epoch == 1

    def on_train_end(self, logs=None):
        self.events.append(("train_end", logs))


def test_new_api_subclass_gets_every_hook_and_should_stop_stops():
    rec = NewRecorder()
    trainer, _ = _fit([rec], max_epochs=5)
    assert trainer.history.num_epochs == 2 and trainer.should_stop
    names = [e[0] for e in rec.events]
    assert names[0] == "train_begin" and names[-1] == "train_end"
    assert names[1:10] == ["epoch_begin"] + ["batch_begin", "batch_end"] * 4  # 64 samples / 8 = 8 batches
    batch_ends = [e for e in rec.events if e[0] == "batch_end"]
    assert [e[1] for e in batch_ends[:8]] == list(range(8))
    assert all(isinstance(e[2], float) for e in batch_ends)
    epoch_end = next(e for e in rec.events if e[0] == "epoch_end")
    assert epoch_end[1] == 0
    assert list(epoch_end[2]) == ["train_loss", "train_acc", "val_loss", "val_acc", "lr"]
    assert epoch_end[2]["val_acc"] == pytest.approx(100 * trainer.history["val_acc"][0])


def test_new_api_builtin_callbacks_on_the_core(tmp_path):
    model = make_model(dropout=0.0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    stopper = new_api.EarlyStoppingCallback(monitor="val_loss", patience=1, min_delta=10.0, verbose=False)
    monitor = new_api.GradientMonitor(model, log_interval=1, alert_threshold=1e9)
    logger = new_api.MetricLogger(tmp_path / "m.json")
    lrs = new_api.LearningRateMonitor(opt, verbose=False)
    ckpt = new_api.ModelCheckpointCallback(tmp_path / "ck", model, opt, monitor="val_acc", verbose=False)
    trainer = Trainer(model, opt, callbacks=[stopper, monitor, logger, lrs, ckpt], max_epochs=6,
                      enable_progress_bar=False)
    trainer.fit(make_loader(), make_loader(n=16, seed=1))
    assert trainer.history.num_epochs == 2 and stopper.should_stop
    assert len(monitor.gradient_norms) == 16 and min(monitor.gradient_norms) > 0  # gradients were there
    assert [e["epoch"] for e in logger.get_history()] == [1, 2]
    assert lrs.get_history() == [(0, 0.1), (1, 0.1)]
    assert any(p.name.startswith("checkpoint_epoch000_val_acc") for p in (tmp_path / "ck").iterdir())


def test_duck_typed_objects_of_each_api():
    class NewStyle:  # not a subclass, hooks (epoch, logs)
        def __init__(self):
            self.epochs = []

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(epoch)

    class OldStyle:  # not a subclass, not callable: on_epoch_end(trainer, epoch, metrics)
        def __init__(self):
            self.epochs = []

        def on_epoch_end(self, trainer, epoch, metrics):
            self.epochs.append((epoch, trainer.state.epoch))

    new, old = NewStyle(), OldStyle()
    _fit([new, old], max_epochs=2, val=False)
    assert new.epochs == [0, 1] and old.epochs == [(0, 0), (1, 1)]


def test_adapt_callback_identity_and_refusal():
    core = Callback()
    assert adapt_callback(core) is core
    with pytest.raises(TypeError, match="adapt_callback"):
        adapt_callback(42)
    adapted = [adapt_callback(old_api.ProgressPrinter()), adapt_callback(old_api.ProgressPrinter())]
    assert adapted[0].state_key != adapted[1].state_key  # two of a kind can share one Trainer


def test_new_api_batch_hooks_are_only_dispatched_when_defined():
    timing = adapt_callback(new_api.EarlyStoppingCallback())
    assert "on_train_batch_end" not in vars(timing) and "on_train_batch_start" not in vars(timing)
    assert "on_train_batch_end" in vars(adapt_callback(new_api.TimingCallback()))
