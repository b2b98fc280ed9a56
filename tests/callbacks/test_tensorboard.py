import importlib.util
import sys
import types

import pytest

from pfdtrain.errors import MissingExtraError

EPOCHS = [{"train_loss": 0.5, "val_loss": 0.4}, {"train_loss": 0.25, "val_loss": 0.3}]


class FakeWriter:
    instances = []

    def __init__(self, log_dir=None):
        self.log_dir, self.scalars, self.flushes, self.closed = log_dir, [], 0, False
        FakeWriter.instances.append(self)

    def add_scalar(self, tag, value, global_step=None):
        self.scalars.append((tag, value, global_step))

    def flush(self):
        self.flushes += 1

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tensorboard(monkeypatch):
    FakeWriter.instances = []
    module = types.ModuleType("torch.utils.tensorboard")
    module.SummaryWriter = FakeWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", module)
    from pfdtrain.callbacks import TensorBoardLogger

    return TensorBoardLogger


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is not None, reason="tensorboard is installed")
def test_missing_extra_for_real():
    from pfdtrain.callbacks import TensorBoardLogger

    with pytest.raises(MissingExtraError, match=r"pip install 'pfdtrain\[tensorboard\]'"):
        TensorBoardLogger()


def test_missing_extra_when_the_import_fails(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # makes the import raise
    from pfdtrain.callbacks import TensorBoardLogger

    with pytest.raises(MissingExtraError) as info:
        TensorBoardLogger()
    assert info.value.extra == "tensorboard" and "TensorBoardLogger" in str(info.value)


def test_logs_each_epoch_at_step_epoch(make_trainer, tmp_path, fake_tensorboard):
    trainer = make_trainer(default_root_dir=tmp_path / "run")

    def lr_monitor_like(tr, batch_idx):
        tr.callback_metrics["lr-SGD"] = 0.1

    logger = fake_tensorboard()
    trainer.fit([logger], EPOCHS, on_batch=lr_monitor_like)
    (writer,) = FakeWriter.instances
    assert writer.log_dir == str(tmp_path / "run" / "tensorboard")
    assert sorted(writer.scalars) == sorted([
        ("train_loss", 0.5, 0), ("val_loss", 0.4, 0), ("lr-SGD", 0.1, 0),
        ("train_loss", 0.25, 1), ("val_loss", 0.3, 1), ("lr-SGD", 0.1, 1),
    ])
    assert writer.flushes == 2 and writer.closed and logger.writer is None


def test_save_dir_name_exception_and_other_ranks(make_trainer, tmp_path, fake_tensorboard):
    logger = fake_tensorboard(save_dir=tmp_path / "tb", name="exp1")
    trainer = make_trainer()
    logger.on_fit_start(trainer)
    logger.on_exception(trainer, RuntimeError("boom"))
    (writer,) = FakeWriter.instances
    assert writer.log_dir == str(tmp_path / "tb" / "exp1") and writer.closed

    make_trainer(is_global_zero=False).fit([fake_tensorboard()], EPOCHS)
    assert len(FakeWriter.instances) == 1  # no writer on other processes
    assert fake_tensorboard(name="a").state_key != fake_tensorboard(name="b").state_key
