"""Legacy ``training.cnn_callbacks`` (the NEW callback API) and its ``test_callbacks`` self-test.

Hooks take ``(epoch, logs)`` / ``(batch, logs)``; epochs are 0-based and printed 1-based;
messages go to the logger ``training.cnn_callbacks``. No legacy trainer drove these callbacks;
the core :class:`pfdtrain.Trainer` does (it adapts them with ``callbacks.adapt_callback``).
Kept legacy behaviour (``docs/compatibility.md``): ``EarlyStoppingCallback`` only sets a sticky
``should_stop``; ``ModelCheckpointCallback`` writes one file per save, never prunes, and with
``save_best_only=False`` records worse values as best; an unknown ``mode`` never improves;
``MetricLogger`` rewrites the whole JSON list each time (a non-serialisable value leaves a
truncated file); ``GradientMonitor(norm_type=inf)`` always reports 1.0.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pfdtrain.compat._legacy_names import Any, Callable, Dict, List, Optional, get_logger

__all__ = [
    # module-level names of the legacy module (served as training.cnn_callbacks.<name>)
    "Any",
    "Callable",
    "Callback",
    "CallbackList",
    "Dict",
    "EarlyStoppingCallback",
    "GradientMonitor",
    "LearningRateMonitor",
    "List",
    "MetricLogger",
    "ModelCheckpointCallback",
    "Optional",
    "Path",
    "TimingCallback",
    "defaultdict",
    "get_logger",
    "json",
    "logger",
    "nn",
    "test_callbacks",
    "time",
    "torch",
]

logger = get_logger("training.cnn_callbacks")


class Callback:
    """New-API base class: six no-op hooks."""

    def on_train_begin(self, logs: Any = None) -> None:
        pass

    def on_train_end(self, logs: Any = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: Any = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: Any = None) -> None:
        pass


class CallbackList:
    """Forwards each hook positionally to every callback in order; ignores ``should_stop``."""

    def __init__(self, callbacks: Any) -> None:
        self.callbacks = callbacks  # the caller's list itself, as legacy kept it

    def append(self, callback: Any) -> None:
        self.callbacks.append(callback)

    def on_train_begin(self, logs: Any = None) -> None:
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs: Any = None) -> None:
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch: int, logs: Any = None) -> None:
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs: Any = None) -> None:
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)


class LearningRateMonitor(Callback):
    """Record ``(epoch, lr of group 0)`` every ``log_interval`` epochs."""

    def __init__(self, optimizer: Any, log_interval: int = 1, verbose: bool = True) -> None:
        self.optimizer = optimizer
        self.log_interval = log_interval
        self.verbose = verbose
        self.lr_history: list[Any] = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if (epoch + 1) % self.log_interval == 0:
            lr = self.optimizer.param_groups[0]["lr"]
            self.lr_history.append((epoch, lr))
            if self.verbose:
                logger.info(f"Epoch {epoch + 1}: LR = {lr:.6f}")

    def get_history(self) -> Any:
        return self.lr_history


class GradientMonitor(Callback):
    """Total gradient norm every ``log_interval``-th ``on_batch_end`` call, with alerts."""

    #: Driven by the core Trainer, ``on_batch_end`` runs before the optimizer step (gradients exist).
    reads_gradients = True

    def __init__(self, model: Any, log_interval: int = 100, norm_type: float = 2.0,
                 alert_threshold: float = 10.0) -> None:
        self.model = model
        self.log_interval = log_interval
        self.norm_type = norm_type
        self.alert_threshold = alert_threshold
        self.gradient_norms: list[Any] = []
        self.batch_count = 0

    def on_batch_end(self, batch: int, logs: Any = None) -> None:
        self.batch_count += 1
        if self.batch_count % self.log_interval != 0:
            return
        total = 0.0
        for p in self.model.parameters():
            if p.grad is not None:
                total += p.grad.detach().norm(self.norm_type).item() ** self.norm_type
        total = total ** (1.0 / self.norm_type)
        self.gradient_norms.append(total)
        if total > self.alert_threshold:
            logger.warning(f"⚠️ Large gradient detected: {total:.2f} (threshold: {self.alert_threshold})")
        if total < 1e-7:
            logger.warning(f"⚠️ Very small gradient detected: {total:.2e} (potential vanishing gradients)")

    def get_statistics(self) -> Any:
        if not self.gradient_norms:
            return {}
        norms = np.asarray(self.gradient_norms, dtype=np.float64)
        return {"mean": float(np.mean(norms)), "std": float(np.std(norms)), "min": float(np.min(norms)),
                "max": float(np.max(norms)), "median": float(np.median(norms))}


class ModelCheckpointCallback(Callback):
    """``checkpoint_epoch{epoch:03d}_{monitor}{value:.4f}.pth`` on improvement (or every epoch)."""

    def __init__(self, checkpoint_dir: Any, model: Any, optimizer: Any = None, monitor: str = "val_acc",
                 mode: str = "max", save_best_only: bool = True, verbose: bool = True) -> None:
        self.checkpoint_dir = Path(checkpoint_dir)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.model = model
        self.optimizer = optimizer
        self.monitor = monitor
        self.mode = mode
        self.save_best_only = save_best_only
        self.verbose = verbose
        self.best_metric = float("-inf") if mode == "max" else float("inf")

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if logs is None or self.monitor not in logs:
            return
        current = logs[self.monitor]
        improved = (self.mode == "max" and current > self.best_metric) or (
            self.mode == "min" and current < self.best_metric)
        if self.save_best_only and not improved:
            return
        self.best_metric = current
        path = self.checkpoint_dir / f"checkpoint_epoch{epoch:03d}_{self.monitor}{current:.4f}.pth"
        checkpoint = {"epoch": epoch, "model_state_dict": self.model.state_dict(), self.monitor: current}
        if self.optimizer is not None:
            checkpoint["optimizer_state_dict"] = self.optimizer.state_dict()
        torch.save(checkpoint, path)
        if self.verbose:
            logger.info(f"✓ Checkpoint saved: {path}")


class TimingCallback(Callback):
    """Wall time of epochs and batches: from the last ``*_begin`` (an end before any begin records
    nothing; the start time is not cleared, so a second end without a begin measures again)."""

    def __init__(self, verbose: bool = True) -> None:
        self.verbose = verbose
        self.epoch_start_time: float | None = None
        self.batch_start_time: float | None = None
        self.epoch_times: list[Any] = []
        self.batch_times: list[Any] = []

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch_start_time = time.time()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if self.epoch_start_time is None:
            return
        elapsed = time.time() - self.epoch_start_time
        self.epoch_times.append(elapsed)
        if self.verbose:
            logger.info(f"Epoch {epoch + 1} completed in {elapsed:.2f}s")

    def on_batch_begin(self, batch: int, logs: Any = None) -> None:
        self.batch_start_time = time.time()

    def on_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.batch_start_time is not None:
            self.batch_times.append(time.time() - self.batch_start_time)

    def get_statistics(self) -> Any:
        stats: dict[str, float] = {}
        if self.epoch_times:
            epochs = np.array(self.epoch_times)
            stats.update(epoch_mean=float(epochs.mean()), epoch_std=float(epochs.std()),
                         epoch_total=float(epochs.sum()))
        if self.batch_times:
            batches = np.array(self.batch_times)
            stats.update(batch_mean=float(batches.mean()), batch_std=float(batches.std()))
        return stats


class MetricLogger(Callback):
    """Append ``{'epoch': epoch + 1, **logs}`` every ``log_interval`` epochs and rewrite the JSON file."""

    def __init__(self, log_file: Any, log_interval: int = 1) -> None:
        self.log_file = Path(log_file)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_interval = log_interval
        self.metrics_history: list[Any] = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if (epoch + 1) % self.log_interval != 0 or logs is None:
            return
        self.metrics_history.append({"epoch": epoch + 1, **logs})
        with open(self.log_file, "w") as f:
            json.dump(self.metrics_history, f, indent=2)

    def get_history(self) -> Any:
        return self.metrics_history


class EarlyStoppingCallback(Callback):
    """Set ``should_stop`` (sticky) after ``patience`` epochs without improvement; never raises."""

    def __init__(self, monitor: str = "val_loss", patience: int = 10, mode: str = "min", min_delta: float = 0.0,
                 verbose: bool = True) -> None:
        self.monitor = monitor
        self.patience = patience
        self.mode = mode
        self.min_delta = min_delta
        self.verbose = verbose
        self.best_metric = float("inf") if mode == "min" else float("-inf")
        self.counter = 0
        self.should_stop = False

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if logs is None or self.monitor not in logs:
            return
        current = logs[self.monitor]
        if self.mode == "min":
            improved = current < self.best_metric - self.min_delta
        elif self.mode == "max":
            improved = current > self.best_metric + self.min_delta
        else:
            improved = False
        if improved:
            self.best_metric = current
            self.counter = 0
            if self.verbose:
                logger.info(f"Validation metric improved to {current:.4f}")
            return
        self.counter += 1
        if self.verbose:
            logger.info(f"No improvement for {self.counter}/{self.patience} epochs")
        if self.counter >= self.patience:
            self.should_stop = True
            if self.verbose:
                logger.info(f"Early stopping triggered at epoch {epoch + 1}")


def test_callbacks() -> None:
    """Legacy self-test: each callback driven by hand on a ``Linear(10, 1)`` (random inputs from the
    global RNG), with legacy's printed lines; messages go to ``training.cnn_callbacks``."""
    import tempfile

    print("=" * 60)
    print("Testing Callbacks")
    print("=" * 60)
    model = nn.Linear(10, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)

        print("\n1. Testing LearningRateMonitor...")
        lr_monitor = LearningRateMonitor(optimizer, verbose=True)
        for epoch in range(3):
            lr_monitor.on_epoch_end(epoch)
        print(f"   LR history: {lr_monitor.get_history()}")

        print("\n2. Testing GradientMonitor...")
        grad_monitor = GradientMonitor(model, log_interval=1)
        for batch in range(3):
            model(torch.randn(4, 10)).sum().backward()
            grad_monitor.on_batch_end(batch)
        print(f"   Gradient stats: {grad_monitor.get_statistics()}")

        print("\n3. Testing TimingCallback...")
        timer = TimingCallback(verbose=True)
        for epoch in range(3):
            timer.on_epoch_begin(epoch)
            time.sleep(0.01)
            timer.on_epoch_end(epoch)
        print(f"   Timing stats: {timer.get_statistics()}")

        print("\n4. Testing MetricLogger...")
        metric_logger = MetricLogger(tmpdir / "metrics.json")
        for epoch in range(3):
            metric_logger.on_epoch_end(epoch, {"train_loss": 0.5 - epoch * 0.1, "val_acc": 85.0 + epoch * 2.0})
        print(f"   Logged {len(metric_logger.get_history())} entries")

        print("\n5. Testing EarlyStoppingCallback...")
        early_stop = EarlyStoppingCallback(monitor="val_loss", patience=2, mode="min", verbose=True)
        for epoch, loss in enumerate([0.5, 0.4, 0.38, 0.375, 0.374, 0.373]):
            early_stop.on_epoch_end(epoch, {"val_loss": loss})
            if early_stop.should_stop:
                print(f"   Stopped at epoch {epoch + 1}")
                break

        print("\n6. Testing CallbackList...")
        callbacks = CallbackList([LearningRateMonitor(optimizer, verbose=False), TimingCallback(verbose=False)])
        callbacks.on_train_begin()
        for epoch in range(2):
            callbacks.on_epoch_begin(epoch)
            time.sleep(0.01)
            callbacks.on_epoch_end(epoch, {"train_loss": 0.5})
        callbacks.on_train_end()
        print("   CallbackList executed successfully")

    print("\n" + "=" * 60)
    print("✅ All callback tests passed!")
    print("=" * 60)


def _legacy_main() -> None:
    """``python -m training.cnn_callbacks``."""
    test_callbacks()
