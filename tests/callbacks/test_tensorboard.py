"""TensorBoardLogger against the real TensorBoard: event files written by torch's SummaryWriter,
read back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from pfdtrain import Callback

EPOCHS = [{"train_loss": 0.5, "val_loss": 0.4}, {"train_loss": 0.25, "val_loss": 0.3}]


def read_scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar TensorBoard shows for ``log_dir``: tag -> [(step, value)] in step order."""
    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def assert_scalars(log_dir: Path, expected: dict[str, list[float]]) -> None:
    """One scalar per epoch and tag, at step = epoch; float32 in the event file, hence rel=1e-6."""
    scalars = read_scalars(log_dir)
    assert set(scalars) == set(expected)
    for tag, values in expected.items():
        assert [step for step, _ in scalars[tag]] == list(range(len(values))), tag
        assert [value for _, value in scalars[tag]] == pytest.approx(values, rel=1e-6), tag


class ReadBack(Callback):
    """Placed after the logger: reads its event files at each epoch end, while its writer is open."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger
        self.seen: list[dict[str, list[tuple[int, float]]]] = []
        self.writers: list[Any] = []

    def on_train_epoch_end(self, trainer: Any) -> None:
        self.seen.append(read_scalars(self.logger.log_dir))
        self.writers.append(self.logger.writer)


def test_missing_extra_names_the_install_command() -> None:
    # A fresh interpreter in which `import tensorboard` fails as it does where the extra is not
    # installed: torch.utils.tensorboard then raises its own ImportError, which the logger translates.
    code = (
        "import sys; sys.modules['tensorboard'] = None\n"
        "from pfdtrain.callbacks import TensorBoardLogger\n"
        "from pfdtrain.errors import MissingExtraError\n"
        "try:\n    TensorBoardLogger()\n"
        "except MissingExtraError as e:\n    print(type(e).__name__, isinstance(e, ImportError), e.extra, '|', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("MissingExtraError True tensorboard | TensorBoardLogger needs the optional dependency")
    assert "pip install 'pfdtrain[tensorboard]'" in out


def test_logs_each_epoch_at_step_epoch_flushed_and_closed(make_trainer: Callable[..., Any], tmp_path: Path) -> None:
    from pfdtrain.callbacks import TensorBoardLogger

    trainer = make_trainer(default_root_dir=tmp_path / "run")
    log_dir = tmp_path / "run" / "tensorboard"

    def lr_monitor_like(tr: Any, batch_idx: int) -> None:
        tr.callback_metrics["lr-SGD"] = 0.1

    logger = TensorBoardLogger()
    reader = ReadBack(logger)
    trainer.fit([logger, reader], EPOCHS, on_batch=lr_monitor_like)
    assert logger.log_dir == log_dir
    assert_scalars(log_dir, {"train_loss": [0.5, 0.25], "val_loss": [0.4, 0.3], "lr-SGD": [0.1, 0.1]})
    # Readable at every epoch end (the logger flushes), not only once the file is closed.
    assert [sorted(seen) for seen in reader.seen] == [["lr-SGD", "train_loss", "val_loss"]] * 2
    assert [len(seen["train_loss"]) for seen in reader.seen] == [1, 2]
    # Closed at fit end: one writer for the whole fit, its event files closed.
    (writer,) = set(reader.writers)
    assert writer.all_writers is None and logger.writer is None


def test_resume_shows_every_epoch_once(real_trainer: Callable[..., Any], loaders: Any, tmp_path: Path) -> None:
    """A run checkpointed after epoch 1 logs epoch 2 and then dies; the resumed run logs epochs 2
    and 3 again into the same folder. TensorBoard must show epochs 0-3 once each."""
    from pfdtrain.callbacks import LearningRateMonitor, TensorBoardLogger

    class SaveAfterEpoch1(Callback):
        writes_checkpoints = True

        def on_train_epoch_end(self, trainer: Any) -> None:
            if trainer.current_epoch == 1:
                trainer.save_checkpoint(tmp_path / "epoch1.pt")

    class CrashAfterEpoch2(Callback):
        def on_train_epoch_end(self, trainer: Any) -> None:
            if trainer.current_epoch == 2:
                raise RuntimeError("simulated crash")

    log_dir = tmp_path / "tb" / "run"

    def logger() -> TensorBoardLogger:
        return TensorBoardLogger(save_dir=tmp_path / "tb", name="run")

    first = real_trainer([logger(), CrashAfterEpoch2(), SaveAfterEpoch1()], max_epochs=4)
    with pytest.raises(RuntimeError, match="simulated crash"):
        first.fit(*loaders)
    assert [step for step, _ in read_scalars(log_dir)["train_loss"]] == [0, 1, 2]

    resumed = real_trainer([LearningRateMonitor(), logger()], max_epochs=4)
    history = resumed.fit(*loaders, ckpt_path=tmp_path / "epoch1.pt")
    expected = {k: history[k] for k in history if k != "epoch"}
    scalars = read_scalars(log_dir)
    # LearningRateMonitor ran in the resumed fit only: its tag starts at epoch 2.
    assert [step for step, _ in scalars.pop("lr-SGD")] == [2, 3]
    assert set(scalars) == set(expected)
    for tag, values in expected.items():
        assert [step for step, _ in scalars[tag]] == [0, 1, 2, 3], tag
        assert [value for _, value in scalars[tag]] == pytest.approx(values, rel=1e-6), tag


def test_save_dir_name_exception_and_other_ranks(make_trainer: Callable[..., Any], tmp_path: Path) -> None:
    from pfdtrain.callbacks import TensorBoardLogger

    logger = TensorBoardLogger(save_dir=tmp_path / "tb", name="exp1")
    trainer = make_trainer()
    logger.on_fit_start(trainer)
    writer = logger.writer
    writer.add_scalar("partial", 1.5, global_step=0)
    logger.on_exception(trainer, RuntimeError("boom"))
    assert writer.all_writers is None and logger.writer is None  # closed, hence flushed
    assert read_scalars(tmp_path / "tb" / "exp1") == {"partial": [(0, 1.5)]}

    other_root = tmp_path / "rank1"
    make_trainer(is_global_zero=False, default_root_dir=other_root).fit([TensorBoardLogger()], EPOCHS)
    assert not other_root.exists()  # no writer, no folder on other processes
    assert TensorBoardLogger(name="a").state_key != TensorBoardLogger(name="b").state_key


# ---------------------------------------------------------------------- with the real Trainer


def test_real_trainer_logs_every_epoch(real_trainer: Callable[..., Any], loaders: Any, tmp_path: Path) -> None:
    from pfdtrain.callbacks import LearningRateMonitor, TensorBoardLogger

    trainer = real_trainer([LearningRateMonitor(), TensorBoardLogger()], max_epochs=2, default_root_dir=tmp_path)
    history = trainer.fit(*loaders)
    expected = {k: history[k] for k in history if k != "epoch"}
    expected["lr-SGD"] = [0.05, 0.05]
    assert_scalars(tmp_path / "tensorboard", expected)
