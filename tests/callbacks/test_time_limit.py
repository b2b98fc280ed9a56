from datetime import timedelta

import pytest

import pfdtrain.callbacks.time_limit as time_limit_module
from pfdtrain.callbacks import TimeLimit
from pfdtrain.errors import ConfigurationError


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time_limit_module.time, "monotonic", lambda: now[0])
    return now


def _tick(seconds, clock):
    def on_batch(trainer, batch_idx):
        clock[0] += seconds

    return on_batch


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90.0), (1.5, 1.5), (timedelta(minutes=2), 120.0), ("01:02:03:04", 93784.0), ("00:00:00:30", 30.0)],
)
def test_accepted_forms(value, seconds):
    assert TimeLimit(value).max_seconds == seconds


@pytest.mark.parametrize(
    "value",
    ["1:2:3", "aa:bb:cc:dd", "1h", "", -5, 0, 0.0, float("nan"), float("inf"), True, None, [1], timedelta(0),
     "00:00:00:00"],
)
def test_bad_values_name_the_accepted_forms(value):
    with pytest.raises(ConfigurationError) as info:
        TimeLimit(value)
    message = str(info.value)
    assert "DD:HH:MM:SS" in message and "timedelta" in message and "seconds" in message


def test_stops_after_the_batch_that_exceeds_the_limit(make_trainer, clock):
    trainer = make_trainer(num_training_batches=10)
    limit = TimeLimit(10)
    ran = trainer.fit([limit], [{"train_loss": 1.0}] * 3, on_batch=_tick(3, clock))
    # batches end at 3, 6, 9, 12 s -> the 4th batch (index 3) stops the run in epoch 0
    assert trainer.should_stop and limit.stopped
    assert ran == 1 and trainer.batch_idx == 3
    assert limit.time_elapsed == 12.0  # frozen at fit end
    clock[0] += 100
    assert limit.time_elapsed == 12.0


def test_checked_at_epoch_end(make_trainer, clock):
    trainer = make_trainer()
    limit = TimeLimit(5)
    limit.on_fit_start(trainer)
    clock[0] += 4.0
    limit.on_train_epoch_end(trainer)
    assert not trainer.should_stop
    clock[0] += 1.0
    limit.on_train_epoch_end(trainer)
    assert trainer.should_stop
    assert limit.time_remaining == 0.0


def test_resumed_run_continues_counting(make_trainer, clock):
    first = TimeLimit("00:00:00:10")
    t1 = make_trainer(num_training_batches=2)
    t1.fit([first], [{"train_loss": 1.0}], on_batch=_tick(3, clock))  # 6 s used
    state = first.state_dict()
    assert state["time_elapsed"] == 6.0 and not t1.should_stop

    clock[0] += 3600  # time between the runs does not count
    resumed = TimeLimit("00:00:00:10")
    resumed.load_state_dict(state)
    t2 = make_trainer(num_training_batches=10, current_epoch=1)
    t2.fit([resumed], [{"train_loss": 1.0}], on_batch=_tick(3, clock))
    # 6 + 3 = 9 < 10, 6 + 6 = 12 >= 10 -> stops after the 2nd batch (a fresh budget needs 4)
    assert t2.should_stop and t2.batch_idx == 1
    assert resumed.time_elapsed == 12.0


def test_loading_state_while_running_counts_from_then(make_trainer, clock):
    limit = TimeLimit(100)
    limit.on_fit_start(make_trainer())
    clock[0] += 50
    limit.load_state_dict({"time_elapsed": 20.0})
    clock[0] += 5
    assert limit.time_elapsed == 25.0


# ---------------------------------------------------------------------- with the real Trainer


def test_real_trainer_stops_cleanly_and_checkpoints_the_elapsed_time(real_trainer, loaders, tmp_path):
    from pfdtrain.checkpoint import load

    limit = TimeLimit(1e-9)  # spent by the first batch
    trainer = real_trainer([limit], max_epochs=5)
    history = trainer.fit(*loaders)
    assert trainer.global_step == 1 and history.num_epochs == 1
    assert history["val_loss"][0] is not None  # the epoch still ended with validation
    trainer.save_checkpoint(tmp_path / "c.pt")
    saved = load(tmp_path / "c.pt")["callbacks"][limit.state_key]
    assert saved["time_elapsed"] == limit.time_elapsed > 0
