import io
import re

import pytest
import torch
from rich.console import Console

import pfdtrain.callbacks.progress as progress_module
from pfdtrain.callbacks import ProgressBar
from pfdtrain.errors import ConfigurationError

METRICS = {"train_loss": 0.1234, "train_acc": 0.95, "val_loss": 0.2, "val_acc": 0.9, "lr": 1e-3}


def _console(terminal, width=40):
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=width), buffer


def test_non_terminal_prints_exactly_one_plain_line_per_epoch(make_trainer):
    console, buffer = _console(False)  # narrower than the line: it must not wrap
    trainer = make_trainer(max_epochs=3, num_training_batches=50)
    trainer.fit([ProgressBar(refresh_rate=0, console=console)], [METRICS] * 3, batches=50)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines, start=1):
        assert re.fullmatch(
            rf"Epoch {epoch}/3 - train_loss=0\.1234 train_acc=0\.9500 val_loss=0\.2000 val_acc=0\.9000 "
            r"lr=1\.0e-03 \(\d+\.\ds\)",
            line,
        ), line
    assert "\x1b" not in buffer.getvalue()


def test_non_terminal_without_max_epochs_and_with_missing_metrics(make_trainer):
    console, buffer = _console(False)
    trainer = make_trainer(max_epochs=None)
    trainer.fit([ProgressBar(console=console)], [{"train_loss": 2.0}, {"train_loss": 1.0, "val_loss": 3.0}])
    lines = buffer.getvalue().splitlines()
    assert [re.sub(r" \(.*\)$", "", line) for line in lines] == [
        "Epoch 1 - train_loss=2.0000",
        "Epoch 2 - train_loss=1.0000 val_loss=3.0000",
    ]


def test_terminal_renders_a_bar_with_loss_and_metrics(make_trainer):
    console, buffer = _console(True, width=160)
    trainer = make_trainer(max_epochs=2, num_training_batches=6)
    bar = ProgressBar(refresh_rate=0, console=console)
    trainer.fit([bar], [METRICS] * 2, batches=6, loss=0.75)
    text = buffer.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "loss=0.7500" in text
    assert "train_loss=0.1234" in text and "lr=1.0e-03" in text
    assert "6/6" in text
    assert bar._progress is None  # live display stopped


def test_terminal_with_validation_and_transient_bar(make_trainer):
    console, buffer = _console(True, width=120)
    trainer = make_trainer(num_training_batches=None)  # unknown length
    bar = ProgressBar(refresh_rate=0, leave=False, console=console)
    bar.on_train_epoch_start(trainer)
    bar.on_train_batch_end(trainer, None, None, 0)
    bar.on_validation_start(trainer)
    bar.on_validation_batch_end(trainer, None, None, 0)
    bar.on_validation_end(trainer)
    trainer.history.append({"epoch": 0, **METRICS})
    bar.on_train_epoch_end(trainer)
    bar.on_fit_end(trainer)
    assert "Validation" in buffer.getvalue()  # the validation bar was drawn
    assert "train_loss=0.1234" not in buffer.getvalue()  # leave=False: no summary line stays
    assert bar._progress is None


class CountingLoss:
    def __init__(self):
        self.reads = 0

    def item(self):
        self.reads += 1
        return 0.5


@pytest.mark.parametrize(("terminal", "expected_reads"), [(True, 5), (False, 0)])
def test_loss_is_read_only_at_the_refresh_rate(make_trainer, monkeypatch, terminal, expected_reads):
    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    console, _ = _console(terminal, width=120)
    trainer = make_trainer(num_training_batches=10)
    bar = ProgressBar(refresh_rate=0.5, console=console)
    loss = CountingLoss()
    out = type("Out", (), {"loss": loss})()
    bar.on_train_epoch_start(trainer)
    for i in range(10):
        clock[0] += 0.25  # exact in binary: refreshes at 0.5, 1.0, 1.5, 2.0, 2.5
        bar.on_train_batch_end(trainer, out, None, i)
    assert loss.reads == expected_reads
    bar.on_exception(trainer, RuntimeError())
    assert bar._progress is None


def test_only_global_zero_shows_anything(make_trainer):
    for terminal in (True, False):
        console, buffer = _console(terminal)
        make_trainer(is_global_zero=False).fit([ProgressBar(console=console)], [METRICS])
        assert buffer.getvalue() == ""


def test_flags_and_bad_arguments():
    assert ProgressBar.is_progress_bar is True
    assert ProgressBar().state_dict() == {}
    for bad in (-0.1, float("inf"), "fast", True):
        with pytest.raises(ConfigurationError, match="refresh_rate"):
            ProgressBar(refresh_rate=bad)
    with pytest.raises(ConfigurationError, match="Console"):
        ProgressBar(console=io.StringIO())


def test_real_tensor_loss(make_trainer):
    console, buffer = _console(True, width=120)
    bar = ProgressBar(refresh_rate=0, console=console)
    trainer = make_trainer()
    bar.on_train_epoch_start(trainer)
    out = type("Out", (), {"loss": torch.tensor(0.125, requires_grad=True) * 1})()
    bar.on_train_batch_end(trainer, out, None, 0)
    bar.on_fit_end(trainer)
    assert "loss=0.1250" in buffer.getvalue()


# ---------------------------------------------------------------------- with the real Trainer


def test_real_trainer_default_progress_bar_prints_one_line_per_epoch(real_trainer, loaders, capsys, monkeypatch):
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)
    trainer = real_trainer(max_epochs=2, enable_progress_bar=True)
    assert [type(cb).__name__ for cb in trainer.callbacks] == ["ProgressBar"]
    trainer.fit(*loaders)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for epoch, line in enumerate(lines):
        row = trainer.history
        expected = (
            f"Epoch {epoch + 1}/2 - train_loss={row['train_loss'][epoch]:.4f} train_acc={row['train_acc'][epoch]:.4f} "
            f"val_loss={row['val_loss'][epoch]:.4f} val_acc={row['val_acc'][epoch]:.4f} lr=5.0e-02"
        )
        assert re.fullmatch(re.escape(expected) + r" \(\d+\.\ds\)", line), line


def test_real_trainer_with_a_terminal_console(real_trainer, loaders):
    console, buffer = _console(True, width=160)
    trainer = real_trainer([ProgressBar(refresh_rate=0, console=console)], max_epochs=2, enable_progress_bar=True)
    assert sum(isinstance(cb, ProgressBar) for cb in trainer.callbacks) == 1
    trainer.fit(*loaders)
    text = buffer.getvalue()
    assert "Epoch 2/2" in text and "8/8" in text and "loss=" in text and "val_acc=" in text
