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
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStoppingCallback",
    "GradientMonitor",
    "LearningRateMonitor",
    "MetricLogger",
    "ModelCheckpointCallback",
    "TimingCallback",
    "test_callbacks",
]

logger = logging.getLogger("training.cnn_callbacks")


class Callback:
    """New-API base class: six no-op hooks."""

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class CallbackList:
    """Forwards each hook positionally to every callback in order; ignores ``should_stop``."""

    def __init__(self, callbacks=None):
        self.callbacks = list(callbacks or [])

    def append(self, callback):
        self.callbacks.append(callback)

    def on_train_begin(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)


class LearningRateMonitor(Callback):
    """Record ``(epoch, lr of group 0)`` every ``log_interval`` epochs."""

    def __init__(self, optimizer, log_interval=1, verbose=True):
        self.optimizer = optimizer
        self.log_interval = log_interval
        self.verbose = verbose
        self.lr_history = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.log_interval == 0:
            lr = self.optimizer.param_groups[0]["lr"]
            self.lr_history.append((epoch, lr))
            if self.verbose:
                logger.info(f"Epoch {epoch + 1}: LR = {lr:.6f}")

    def get_history(self):
        return self.lr_history


class GradientMonitor(Callback):
    """Total gradient norm every ``log_interval``-th ``on_batch_end`` call, with alerts."""

    #: Driven by the core Trainer, ``on_batch_end`` runs before the optimizer step (gradients exist).
    reads_gradients = True

    def __init__(self, model, log_interval=100, norm_type=2.0, alert_threshold=10.0):
        self.model = model
        self.log_interval = log_interval
        self.norm_type = norm_type
        self.alert_threshold = alert_threshold
        self.gradient_norms = []
        self.batch_count = 0

    def on_batch_end(self, batch, logs=None):
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
        elif total < 1e-7:
            logger.warning(f"⚠️ Very small gradient detected: {total:.2e} (potential vanishing gradients)")

    def get_statistics(self):
        if not self.gradient_norms:
            return {}
        norms = np.asarray(self.gradient_norms, dtype=np.float64)
        return {"mean": float(np.mean(norms)), "std": float(np.std(norms)), "min": float(np.min(norms)),
                "max": float(np.max(norms)), "median": float(np.median(norms))}


class ModelCheckpointCallback(Callback):
    """``checkpoint_epoch{epoch:03d}_{monitor}{value:.4f}.pth`` on improvement (or every epoch)."""

    def __init__(self, checkpoint_dir, model, optimizer=None, monitor="val_acc", mode="max",
                 save_best_only=True, verbose=True):
        self.checkpoint_dir = Path(checkpoint_dir)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.model = model
        self.optimizer = optimizer
        self.monitor = monitor
        self.mode = mode
        self.save_best_only = save_best_only
        self.verbose = verbose
        self.best_metric = float("-inf") if mode == "max" else float("inf")

    def on_epoch_end(self, epoch, logs=None):
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
    """Wall time of epochs and batches (an end without its begin records nothing)."""

    def __init__(self, verbose=True):
        self.verbose = verbose
        self.epoch_times = []
        self.batch_times = []
        self.epoch_start = None
        self.batch_start = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        if self.epoch_start is None:
            return
        elapsed = time.time() - self.epoch_start
        self.epoch_start = None
        self.epoch_times.append(elapsed)
        if self.verbose:
            logger.info(f"Epoch {epoch + 1} completed in {elapsed:.2f}s")

    def on_batch_begin(self, batch, logs=None):
        self.batch_start = time.time()

    def on_batch_end(self, batch, logs=None):
        if self.batch_start is None:
            return
        self.batch_times.append(time.time() - self.batch_start)
        self.batch_start = None

    def get_statistics(self):
        stats = {}
        if self.epoch_times:
            stats.update(epoch_mean=float(np.mean(self.epoch_times)), epoch_std=float(np.std(self.epoch_times)),
                         epoch_total=float(np.sum(self.epoch_times)))
        if self.batch_times:
            stats.update(batch_mean=float(np.mean(self.batch_times)), batch_std=float(np.std(self.batch_times)))
        return stats


class MetricLogger(Callback):
    """Append ``{'epoch': epoch + 1, **logs}`` every ``log_interval`` epochs and rewrite the JSON file."""

    def __init__(self, log_file, log_interval=1):
        self.log_file = Path(log_file)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_interval = log_interval
        self.history = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.log_interval != 0 or logs is None:
            return
        self.history.append({"epoch": epoch + 1, **logs})
        with open(self.log_file, "w") as f:
            json.dump(self.history, f, indent=2)

    def get_history(self):
        return self.history


class EarlyStoppingCallback(Callback):
    """Set ``should_stop`` (sticky) after ``patience`` epochs without improvement; never raises."""

    def __init__(self, monitor="val_loss", patience=10, mode="min", min_delta=0.0, verbose=True):
        self.monitor = monitor
        self.patience = patience
        self.mode = mode
        self.min_delta = min_delta
        self.verbose = verbose
        self.best_metric = float("inf") if mode == "min" else float("-inf")
        self.counter = 0
        self.should_stop = False

    def on_epoch_end(self, epoch, logs=None):
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


def test_callbacks():
    """Self-test: drive every callback through a few scripted epochs on a tiny model."""
    print("Testing callbacks...")
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with tempfile.TemporaryDirectory() as tmp:
        callbacks = CallbackList([
            LearningRateMonitor(optimizer, verbose=False),
            GradientMonitor(model, log_interval=1),
            ModelCheckpointCallback(Path(tmp) / "ckpt", model, optimizer, verbose=False),
            TimingCallback(verbose=False),
            MetricLogger(Path(tmp) / "logs" / "metrics.json"),
            EarlyStoppingCallback(monitor="val_loss", patience=2, verbose=False),
        ])
        x, y = torch.ones(8, 4), torch.zeros(8, dtype=torch.long)
        callbacks.on_train_begin()
        for epoch, (val_loss, val_acc) in enumerate([(1.0, 50.0), (0.8, 62.5), (0.9, 60.0), (0.95, 55.0)]):
            callbacks.on_epoch_begin(epoch)
            for batch in range(2):
                callbacks.on_batch_begin(batch)
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(x), y)
                loss.backward()
                callbacks.on_batch_end(batch, {"loss": loss.item()})
                optimizer.step()
            callbacks.on_epoch_end(epoch, {"val_loss": val_loss, "val_acc": val_acc})
        callbacks.on_train_end()
        stopper = callbacks.callbacks[-1]
        assert stopper.should_stop, "early stopping should have triggered"
        assert len(callbacks.callbacks[0].get_history()) == 4
        assert len(list((Path(tmp) / "ckpt").glob("*.pth"))) == 2
        assert len(callbacks.callbacks[4].get_history()) == 4
    print("✓ All callback tests passed!")
