import math

import pytest
import torch

from pfd_testing import weights_only_roundtrip
from pfdtrain.callbacks import CallbackList, EarlyStopping
from pfdtrain.errors import ConfigurationError


def _epochs(values, key="val_loss"):
    return [{"train_loss": 1.0, key: v} for v in values]


@pytest.mark.parametrize(
    ("mode", "values", "patience", "min_delta", "stop_epoch"),
    [
        # best 1.0 -> 0.9 at epoch 1; epochs 2 and 3 do not improve -> stop at 3
        ("min", [1.0, 0.9, 0.95, 0.91, 0.5], 2, 0.0, 3),
        # 0.95 and 0.92 are not below 1.0 - 0.1 -> two epochs without improvement
        ("min", [1.0, 0.95, 0.92, 0.1], 2, 0.1, 2),
        # an equal value is not an improvement
        ("max", [0.5, 0.6, 0.6, 0.55, 0.9], 2, 0.0, 3),
        # patience 0: the first epoch without improvement stops
        ("min", [1.0, 0.5, 0.7, 0.1], 0, 0.0, 2),
    ],
)
def test_stops_after_patience_epochs_without_improvement(make_trainer, mode, values, patience, min_delta, stop_epoch):
    trainer = make_trainer()
    es = EarlyStopping(monitor="val_loss", mode=mode, patience=patience, min_delta=min_delta)
    ran = trainer.fit([es], _epochs(values))
    assert trainer.should_stop is True
    assert es.stopped_epoch == stop_epoch
    assert ran == stop_epoch + 1


def test_improvement_resets_the_wait(make_trainer):
    trainer = make_trainer()
    es = EarlyStopping(patience=3)
    ran = trainer.fit([es], _epochs([1.0, 2.0, 3.0, 0.5, 4.0, 5.0]))
    assert ran == 6
    assert trainer.should_stop is False
    assert es.stopped_epoch is None
    assert es.wait_count == 2
    assert es.best_score == 0.5


def test_nonfinite_value_stops_at_once(make_trainer):
    trainer = make_trainer()
    es = EarlyStopping(patience=10)
    ran = trainer.fit([es], _epochs([1.0, math.nan, 0.5]))
    assert ran == 2 and es.stopped_epoch == 1
    assert "not finite" in es.stop_reason


def test_nonfinite_value_without_check_finite_is_just_no_improvement(make_trainer):
    trainer = make_trainer()
    es = EarlyStopping(patience=10, check_finite=False)
    ran = trainer.fit([es], _epochs([1.0, math.inf, math.nan, 0.5]))
    assert ran == 4 and es.stopped_epoch is None
    assert es.best_score == 0.5 and es.wait_count == 0


def test_epochs_without_validation_are_not_counted(make_trainer):
    # validation every second epoch: callback_metrics keeps the stale val_loss in between
    epochs = [
        {"train_loss": 1.0},
        {"train_loss": 1.0, "val_loss": 1.0},
        {"train_loss": 1.0},
        {"train_loss": 1.0, "val_loss": 1.1},
        {"train_loss": 1.0},
        {"train_loss": 1.0, "val_loss": 1.2},
        {"train_loss": 1.0},
    ]
    trainer = make_trainer()
    es = EarlyStopping(patience=2)
    ran = trainer.fit([es], epochs)
    assert es.stopped_epoch == 5
    assert ran == 6


def test_missing_monitor_is_a_clear_error(make_trainer):
    trainer = make_trainer()
    es = EarlyStopping(monitor="val_los")
    with pytest.raises(ConfigurationError) as info:
        trainer.fit([es], _epochs([1.0]))
    message = str(info.value)
    assert "'val_los'" in message and "val_loss" in message and "train_loss" in message
    assert "monitor=" in message


def test_validation_metric_without_val_loader_is_an_error(make_trainer):
    trainer = make_trainer(val_dataloader=None)
    es = EarlyStopping(monitor="val_loss")
    with pytest.raises(ConfigurationError, match="val_loss"):
        trainer.fit([es], [{"train_loss": 1.0}])


def test_restore_best_weights_loads_the_exact_best_tensors(make_trainer):
    trainer = make_trainer()
    es = EarlyStopping(patience=2, restore_best_weights=True)

    def set_weights(tr, batch_idx):  # epoch e trains the weights to the value e + 0.25
        with torch.no_grad():
            for p in tr.model.parameters():
                p.fill_(tr.current_epoch + 0.25)

    ran = trainer.fit([es], _epochs([1.0, 0.5, 0.7, 0.8, 0.1]), on_batch=set_weights)
    assert ran == 4 and es.stopped_epoch == 3
    expected = {k: torch.full_like(v, 1.25) for k, v in trainer.model.state_dict().items()}  # epoch 1
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, expected[key]), key
    assert all(v.device.type == "cpu" for v in es.best_weights.values())


def test_best_weights_are_not_restored_when_it_did_not_stop(make_trainer):
    trainer = make_trainer()
    es = EarlyStopping(patience=5, restore_best_weights=True)

    def set_weights(tr, batch_idx):
        with torch.no_grad():
            for p in tr.model.parameters():
                p.fill_(float(tr.current_epoch))

    trainer.fit([es], _epochs([0.5, 0.7]), on_batch=set_weights)
    assert all(torch.all(p == 1.0) for p in trainer.model.parameters())


def test_resumed_callback_continues_identically(make_trainer):
    values = [1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.72, 0.74, 0.6]
    straight = EarlyStopping(patience=3, restore_best_weights=True)
    straight_trainer = make_trainer()
    straight_trainer.fit([straight], _epochs(values))

    first = EarlyStopping(patience=3, restore_best_weights=True)
    t1 = make_trainer()
    t1.fit([first], _epochs(values[:5]))
    state = weights_only_roundtrip(first.state_dict())
    resumed = EarlyStopping(patience=3, restore_best_weights=True)
    resumed.load_state_dict(state)
    t2 = make_trainer(current_epoch=5)
    t2.history = t1.history
    t2.fit([resumed], _epochs(values[5:]))

    assert straight.stopped_epoch == 7  # best 0.7 at epoch 4; 5, 6, 7 do not improve
    assert resumed.stopped_epoch == straight.stopped_epoch
    assert resumed.best_score == straight.best_score == 0.7
    assert resumed.wait_count == straight.wait_count == 3
    assert set(state) >= {"wait_count", "best_score", "stopped_epoch", "best_weights"}
    assert all(isinstance(v, torch.Tensor) for v in state["best_weights"].values())


def test_fresh_callback_from_mid_run_state_matches_wait_count(make_trainer):
    es = EarlyStopping(patience=4)
    make_trainer().fit([es], _epochs([1.0, 1.1, 1.2]))
    other = EarlyStopping(patience=4)
    other.load_state_dict(weights_only_roundtrip(es.state_dict()))
    assert (other.wait_count, other.best_score, other.stopped_epoch) == (2, 1.0, None)


def test_bad_arguments_are_rejected():
    with pytest.raises(ConfigurationError, match=r"'min'.*'max'"):
        EarlyStopping(mode="minimum")
    with pytest.raises(ConfigurationError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(ConfigurationError, match="patience"):
        EarlyStopping(patience=1.5)
    with pytest.raises(ConfigurationError, match="min_delta"):
        EarlyStopping(min_delta=-0.1)
    with pytest.raises(ConfigurationError, match="monitor"):
        EarlyStopping(monitor="")


def test_state_key_distinguishes_monitor_and_mode():
    a = EarlyStopping(monitor="val_loss", mode="min")
    b = EarlyStopping(monitor="val_acc", mode="max")
    c = EarlyStopping(monitor="val_loss", mode="max")
    assert len({a.state_key, b.state_key, c.state_key}) == 3
    assert "val_acc" in b.state_key and "max" in b.state_key
    CallbackList([a, b, c])  # no duplicate-key error
    with pytest.raises(ValueError, match="state_key"):
        CallbackList([a, EarlyStopping(monitor="val_loss", mode="min", patience=9)])


def test_verbose_reports_the_stop(make_trainer, capsys):
    trainer = make_trainer()
    trainer.fit([EarlyStopping(patience=1, verbose=True)], _epochs([1.0, 2.0]))
    assert "EarlyStopping at epoch 1" in capsys.readouterr().out


# ---------------------------------------------------------------------- with the real Trainer


def test_real_trainer_stops_after_patience(real_trainer, loaders, tmp_path):
    # lr=0: the weights never change, so val_loss is the same every epoch -> no improvement after epoch 0
    es = EarlyStopping(patience=2)
    trainer = real_trainer([es], lr=0.0, max_epochs=10, default_root_dir=tmp_path)
    history = trainer.fit(*loaders)
    assert es.stopped_epoch == 2
    assert history.num_epochs == 3 and trainer.current_epoch == 3


def test_real_trainer_resume_continues_the_count(real_trainer, loaders, tmp_path):
    from pfdtrain.callbacks import ModelCheckpoint
    from pfdtrain.checkpoint import load

    first_es = EarlyStopping(patience=2)
    ckpt = ModelCheckpoint(dirpath=tmp_path, save_top_k=0, save_last=True)
    real_trainer([ckpt, first_es], lr=0.0, max_epochs=2).fit(*loaders)
    saved = load(tmp_path / "last.pt")["callbacks"][first_es.state_key]
    assert saved["wait_count"] == 1 and saved["stopped_epoch"] is None

    resumed_es = EarlyStopping(patience=2)
    trainer = real_trainer([resumed_es], lr=0.0, max_epochs=10)
    trainer.fit(*loaders, ckpt_path=tmp_path / "last.pt")
    # a fresh count would take epochs 2 (new best), 3, 4 and stop at 4
    assert resumed_es.stopped_epoch == 2 and trainer.current_epoch == 3


def test_real_trainer_checkpoint_holds_the_stop_of_the_same_epoch(real_trainer, loaders, tmp_path):
    from pfdtrain.callbacks import ModelCheckpoint
    from pfdtrain.checkpoint import load

    es = EarlyStopping(patience=1)
    ckpt = ModelCheckpoint(dirpath=tmp_path, save_top_k=0, save_last=True)
    real_trainer([ckpt, es], lr=0.0, max_epochs=10).fit(*loaders)  # ckpt listed first, runs last
    assert load(tmp_path / "last.pt")["callbacks"][es.state_key]["stopped_epoch"] == 1


def test_real_trainer_restore_best_weights(real_trainer, loaders, tmp_path):
    es = EarlyStopping(patience=1, restore_best_weights=True, monitor="val_loss")
    snapshots = {}

    from pfdtrain.callbacks import Callback

    class Snapshot(Callback):
        def on_train_epoch_end(self, trainer):
            snapshots[trainer.current_epoch] = (
                trainer.callback_metrics["val_loss"],
                {k: v.clone() for k, v in trainer.model.state_dict().items()},
            )

    trainer = real_trainer([Snapshot(), es], lr=2.0, max_epochs=20)  # a large lr overshoots soon
    trainer.fit(*loaders)
    assert es.stopped_epoch is not None
    best_epoch = min(snapshots, key=lambda e: snapshots[e][0])
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, snapshots[best_epoch][1][key]), key
