"""Trainer overhead on a tiny model: one epoch of fit vs a plain hand-written loop doing the same work.

Targets: <= 1.03x with no callbacks, <= 1.05x with the default progress bar (the legacy
CNNTrainer measures 1.17x on this workload). Run: ``.venv/bin/python -m pytest benchmarks -s``.
"""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from bench_support import interleaved_ratio, report, tiny_mlp_workload
from pfdtrain import Trainer


def plain_epoch(model: nn.Module, opt: torch.optim.Optimizer, loader: DataLoader) -> tuple[float, float]:
    """What a careful hand-written loop does: step every batch, epoch loss and accuracy on the device."""
    model.train()
    loss_sum = torch.zeros((), dtype=torch.float64)
    correct = torch.zeros((), dtype=torch.float64)
    seen = 0
    for x, y in loader:
        out = model(x)
        loss = nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss_sum += loss.detach() * len(y)
        correct += (out.detach().argmax(1) == y).float().mean() * len(y)
        seen += len(y)
    return (loss_sum / seen).item(), (correct / seen).item()


def _trainer_epoch(progress: bool):
    model, loader = tiny_mlp_workload()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    callbacks = []
    if progress:
        from rich.console import Console

        from pfdtrain.callbacks.progress import ProgressBar

        callbacks = [ProgressBar(console=Console(file=io.StringIO(), force_terminal=True))]
    trainer = Trainer(model, opt, max_epochs=0, callbacks=callbacks, enable_progress_bar=False, device="cpu")

    def run():
        trainer.max_epochs += 1
        trainer.fit(loader)

    return run


def _plain():
    model, loader = tiny_mlp_workload()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    return lambda: plain_epoch(model, opt, loader)


@pytest.mark.parametrize(("progress", "target"), [(False, 1.03), (True, 1.05)], ids=["no-callbacks", "progress-bar"])
def test_fit_overhead_vs_plain_loop(benchmark, progress, target):
    ratio, cand, base = interleaved_ratio(_trainer_epoch(progress), _plain(), rounds=15)
    report(benchmark, f"Trainer.fit epoch / plain loop ({'progress bar' if progress else 'no callbacks'})",
           ratio, target, cand, base)
    benchmark.pedantic(_trainer_epoch(progress), rounds=3, iterations=1)
