"""A stand-in for the Trainer: the attributes callbacks read, and a driver that plays the loop's hooks."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
import torch

from pfdtrain.history import History
from pfdtrain.tasks.base import StepOutput


class FakeTrainer(types.SimpleNamespace):
    """Mirrors the Trainer's public state and hook order for one process (no real training).

    ``save_checkpoint`` writes a small file holding epoch/step (so tests can tell files apart)
    and records every call in ``saved``.
    """

    def __init__(self, root: Path, **overrides: Any) -> None:
        model = torch.nn.Linear(3, 2)
        defaults: dict[str, Any] = {
            "current_epoch": 0,
            "global_step": 0,
            "batch_idx": 0,
            "max_epochs": 5,
            "max_steps": None,
            "num_training_batches": 4,
            "callback_metrics": {},
            "history": History(),
            "last_step_output": None,
            "grad_norm": None,
            "is_global_zero": True,
            "default_root_dir": Path(root),
            "model": model,
            "unwrapped_model": model,
            "optimizer": torch.optim.SGD(model.parameters(), lr=0.1),
            "should_stop": False,
            "val_dataloader": [0, 1],
            "log_every_n_steps": 1,
            "accumulate": 1,
        }
        defaults.update(overrides)
        super().__init__(**defaults)
        self.saved: list[Path] = []

    def save_checkpoint(self, path: str | Path) -> Path | None:
        path = Path(path)
        self.saved.append(path)
        if not self.is_global_zero:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"epoch": self.current_epoch, "step": self.global_step}, path)
        return path

    # -------------------------------------------------------------- driving hooks like fit()

    def call(self, callbacks: Iterable[Any], hook: str, *args: Any) -> None:
        for cb in callbacks:
            getattr(cb, hook)(self, *args)

    def run_epoch(
        self,
        callbacks: Iterable[Any],
        metrics: Mapping[str, Any],
        batches: int | None = None,
        on_batch: Callable[[FakeTrainer, int], None] | None = None,
        loss: float = 1.0,
    ) -> None:
        """One epoch: batch hooks (an optimizer step every ``accumulate`` batches), then the
        epoch record is appended to history / callback_metrics and ``on_train_epoch_end`` runs."""
        callbacks = list(callbacks)
        self.call(callbacks, "on_train_epoch_start")
        n = self.num_training_batches if batches is None else batches
        for i in range(n):
            self.batch_idx = i
            batch = (torch.zeros(1, 3), torch.zeros(1, dtype=torch.long))
            self.call(callbacks, "on_train_batch_start", batch, i)
            out = StepOutput(loss=torch.tensor(loss), batch_size=1)
            self.last_step_output = out
            if (i + 1) % self.accumulate == 0 or i + 1 == n:
                self.global_step += 1
            if on_batch is not None:
                on_batch(self, i)
            self.call(callbacks, "on_train_batch_end", out, batch, i)
            if self.should_stop:
                break
        record = {"epoch": self.current_epoch, **metrics}
        self.history.append(record)
        self.callback_metrics.update(record)
        self.call(callbacks, "on_train_epoch_end")
        self.current_epoch += 1

    def fit(self, callbacks: Iterable[Any], epochs_metrics: Iterable[Mapping[str, Any]], **kw: Any) -> int:
        """Run epochs until the metrics run out or a callback stops; returns epochs run."""
        callbacks = list(callbacks)
        self.should_stop = False
        self.call(callbacks, "on_fit_start")
        ran = 0
        for metrics in epochs_metrics:
            if self.should_stop:
                break
            self.run_epoch(callbacks, metrics, **kw)
            ran += 1
        self.call(callbacks, "on_fit_end")
        return ran


@pytest.fixture
def make_trainer(tmp_path: Path) -> Callable[..., FakeTrainer]:
    def make(**overrides: Any) -> FakeTrainer:
        return FakeTrainer(tmp_path, **overrides)

    return make


@pytest.fixture
def real_trainer() -> Callable[..., Any]:
    """Factory for a real Trainer on a tiny CPU model: (callbacks, **trainer kwargs) -> Trainer."""
    from pfd_testing import make_model
    from pfdtrain import Trainer

    def make(callbacks=(), *, lr: float = 0.05, model_seed: int = 5, optimizer=None, **kw: Any) -> Trainer:
        model = make_model(seed=model_seed)
        opt = optimizer if optimizer is not None else (lambda p: torch.optim.SGD(p, lr=lr))
        kw.setdefault("enable_progress_bar", False)
        kw.setdefault("device", "cpu")
        kw.setdefault("seed", 123)
        return Trainer(model, opt, callbacks=list(callbacks), **kw)

    return make


@pytest.fixture
def loaders():
    """(train, val): 8 training batches of 8 samples, 4 validation batches."""
    from pfd_testing import make_loader

    return make_loader(n=64, batch_size=8), make_loader(n=32, batch_size=8, seed=1)
