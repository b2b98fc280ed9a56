import json

import numpy as np
import pytest
import torch

from pfdtrain.callbacks import JSONLogger
from pfdtrain.errors import ConfigurationError


def _strict_load(path):
    """json.load that refuses the non-standard NaN/Infinity tokens."""
    def reject(token):
        raise ValueError(f"invalid JSON constant {token}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=reject)


def test_list_of_epoch_dicts_with_nonfinite_as_strings(make_trainer, tmp_path):
    trainer = make_trainer()
    epochs = [
        {"train_loss": 0.5},
        {"train_loss": float("nan"), "val_loss": float("inf")},
        {"train_loss": float("-inf"), "val_loss": 0.25},
    ]
    logger = JSONLogger(save_dir=tmp_path)
    trainer.fit([logger], epochs)
    assert _strict_load(tmp_path / "metrics.json") == [
        {"epoch": 0, "train_loss": 0.5},
        {"epoch": 1, "train_loss": "nan", "val_loss": "inf"},
        {"epoch": 2, "train_loss": "-inf", "val_loss": 0.25},
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_tensors_and_numpy_scalars_become_numbers(make_trainer, tmp_path):
    trainer = make_trainer()
    trainer.history = {  # a History-like mapping holding raw values
        "epoch": [0],
        "t": [torch.tensor(0.5)],
        "t1": [torch.tensor([2.0])],
        "n32": [np.float32(0.25)],
        "i64": [np.int64(7)],
        "flag": [np.bool_(True)],
        "nan_tensor": [torch.tensor(float("nan"))],
    }
    JSONLogger(save_dir=tmp_path).on_train_epoch_end(trainer)
    assert _strict_load(tmp_path / "metrics.json") == [
        {"epoch": 0, "t": 0.5, "t1": 2.0, "n32": 0.25, "i64": 7, "flag": True, "nan_tensor": "nan"}
    ]


@pytest.mark.parametrize("bad", [object(), torch.ones(3), np.ones(2), [1.0, 2.0], 1 + 2j])
def test_non_numbers_are_rejected_before_anything_is_written(make_trainer, tmp_path, bad):
    trainer = make_trainer()
    logger = JSONLogger(save_dir=tmp_path)
    trainer.fit([logger], [{"train_loss": 0.5}])
    before = (tmp_path / "metrics.json").read_bytes()
    trainer.history = {"epoch": [0, 1], "train_loss": [0.5, 0.4], "weird": [None, bad]}
    with pytest.raises(TypeError, match="'weird' of epoch 1"):
        logger.on_train_epoch_end(trainer)
    assert (tmp_path / "metrics.json").read_bytes() == before  # old file, complete and valid
    _strict_load(tmp_path / "metrics.json")


def test_only_global_zero_writes_and_default_location(make_trainer, tmp_path):
    make_trainer(is_global_zero=False).fit([JSONLogger(save_dir=tmp_path / "x")], [{"train_loss": 1.0}])
    assert not (tmp_path / "x").exists()
    make_trainer(default_root_dir=tmp_path / "run").fit([JSONLogger()], [{"train_loss": 1.0}])
    assert _strict_load(tmp_path / "run" / "logs" / "metrics.json") == [{"epoch": 0, "train_loss": 1.0}]


def test_resumed_run_writes_the_same_file(make_trainer, tmp_path):
    epochs = [{"train_loss": 0.5}, {"train_loss": 0.25, "val_loss": 0.5}, {"train_loss": 0.125}]
    make_trainer().fit([JSONLogger(save_dir=tmp_path / "a")], epochs)
    first = make_trainer()
    logger = JSONLogger(save_dir=tmp_path / "b")
    first.fit([logger], epochs[:1])
    resumed_logger = JSONLogger(save_dir=tmp_path / "b")
    resumed_logger.load_state_dict(logger.state_dict())
    resumed = make_trainer(current_epoch=1)
    resumed.history = first.history
    resumed.fit([resumed_logger], epochs[1:])
    assert (tmp_path / "b" / "metrics.json").read_bytes() == (tmp_path / "a" / "metrics.json").read_bytes()


def test_bad_name():
    with pytest.raises(ConfigurationError, match="file name"):
        JSONLogger(name="logs/metrics.json")


# ---------------------------------------------------------------------- with the real Trainer


def test_real_trainer_json_matches_history(real_trainer, loaders, tmp_path):
    trainer = real_trainer([JSONLogger(save_dir=tmp_path)], max_epochs=2)
    history = trainer.fit(*loaders)
    records = _strict_load(tmp_path / "metrics.json")
    assert records == [{k: history[k][e] for k in history} for e in range(2)]
