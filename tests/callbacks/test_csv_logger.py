import csv
import math
import os

import pytest

from pfdtrain.callbacks import CSVLogger
from pfdtrain.errors import ConfigurationError

EPOCHS = [
    {"train_loss": 0.5},
    {"train_loss": 0.25, "val_loss": 0.75},
    {"train_loss": 0.125, "val_loss": float("nan"), "val_acc": 0.5},
]


def _read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_one_row_per_epoch_and_the_header_grows(make_trainer, tmp_path):
    trainer = make_trainer()
    logger = CSVLogger(save_dir=tmp_path)
    seen = []

    class Peek:  # reads the file right after the logger wrote it
        def __getattr__(self, hook):
            return lambda *a: None

        def on_train_epoch_end(self, trainer):
            seen.append(_read(tmp_path / "metrics.csv"))

    trainer.fit([logger, Peek()], EPOCHS)
    assert seen[0] == [["epoch", "train_loss"], ["0", "0.5"]]
    assert seen[1] == [["epoch", "train_loss", "val_loss"], ["0", "0.5", ""], ["1", "0.25", "0.75"]]
    rows = _read(tmp_path / "metrics.csv")
    assert rows[0] == ["epoch", "train_loss", "val_loss", "val_acc"]
    assert rows[1:3] == [["0", "0.5", "", ""], ["1", "0.25", "0.75", ""]]
    assert rows[3][:2] == ["2", "0.125"] and math.isnan(float(rows[3][2])) and rows[3][3] == "0.5"
    assert logger.path == tmp_path / "metrics.csv"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv"]  # no temp files left


def test_default_location_and_name(make_trainer, tmp_path):
    trainer = make_trainer(default_root_dir=tmp_path / "run")
    trainer.fit([CSVLogger(name="m.csv")], EPOCHS[:1])
    assert _read(tmp_path / "run" / "logs" / "m.csv") == [["epoch", "train_loss"], ["0", "0.5"]]


def test_only_global_zero_writes(make_trainer, tmp_path):
    trainer = make_trainer(is_global_zero=False)
    trainer.fit([CSVLogger(save_dir=tmp_path / "logs")], EPOCHS)
    assert not (tmp_path / "logs").exists()


def test_a_failed_write_leaves_the_previous_file_intact(make_trainer, tmp_path, monkeypatch):
    trainer = make_trainer()
    logger = CSVLogger(save_dir=tmp_path)
    trainer.fit([logger], EPOCHS[:1])
    before = (tmp_path / "metrics.csv").read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        trainer.fit([logger], EPOCHS[1:2])
    assert (tmp_path / "metrics.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv"]


def test_resumed_run_writes_the_same_file(make_trainer, tmp_path):
    straight = make_trainer()
    straight.fit([CSVLogger(save_dir=tmp_path / "a")], EPOCHS)

    first = make_trainer()
    logger = CSVLogger(save_dir=tmp_path / "b")
    first.fit([logger], EPOCHS[:2])
    resumed_logger = CSVLogger(save_dir=tmp_path / "b")
    resumed_logger.load_state_dict(logger.state_dict())
    resumed = make_trainer(current_epoch=2)
    resumed.history = first.history  # restored from the checkpoint by the Trainer
    resumed.fit([resumed_logger], EPOCHS[2:])
    assert (tmp_path / "b" / "metrics.csv").read_bytes() == (tmp_path / "a" / "metrics.csv").read_bytes()


def test_bad_name_and_distinct_state_keys():
    for bad in ("", "sub/metrics.csv", None):
        with pytest.raises(ConfigurationError, match="file name"):
            CSVLogger(name=bad)
    assert CSVLogger(name="a.csv").state_key != CSVLogger(name="b.csv").state_key


# ---------------------------------------------------------------------- with the real Trainer


def test_real_trainer_csv_matches_history(real_trainer, loaders, tmp_path):
    trainer = real_trainer([CSVLogger()], max_epochs=3, default_root_dir=tmp_path, check_val_every_n_epoch=2)
    history = trainer.fit(*loaders)
    rows = _read(tmp_path / "logs" / "metrics.csv")
    assert rows[0] == list(history)
    assert len(rows) == 4
    for epoch, row in enumerate(rows[1:]):
        for column, cell in zip(rows[0], row, strict=True):
            value = history[column][epoch]
            assert cell == ("" if value is None else str(value)), (epoch, column)
    assert rows[1][rows[0].index("val_loss")] == ""  # no validation in epoch 0
