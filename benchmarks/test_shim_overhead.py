"""Legacy-adapter overhead: ``CNNTrainer.train_epoch`` through the shim vs a plain hand-written loop.

Workload: MLP on 4,096 x 64 inputs, batch 32, one thread, CPU. The plain loop does the same work
as a legacy ``CNNTrainer`` epoch with its defaults (cross-entropy, gradient clipping at 1.0,
epoch loss and accuracy), kept on the device. Target <= 1.05x; the legacy trainer itself
measured 1.17x-1.43x against such a loop. Both are timed in the same run, interleaved
(``bench_support.interleaved_ratio``). Run: ``.venv/bin/python -m pytest benchmarks -s``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader

from bench_support import interleaved_ratio, report, tiny_mlp_workload
from pfdtrain.compat.cnn_trainer import CNNTrainer


def _workload():
    model, loader = tiny_mlp_workload()
    return model, torch.optim.SGD(model.parameters(), lr=0.01), loader


def plain_epoch(model: nn.Module, opt: torch.optim.Optimizer, loader: DataLoader) -> tuple[float, float]:
    """A careful hand-written CNNTrainer epoch doing CNNTrainer's work: batches moved to the device,
    the default ``nn.CrossEntropyLoss()`` criterion, clip at 1.0, step every batch, stats on the device."""
    model.train()
    criterion = nn.CrossEntropyLoss()
    device = torch.device("cpu")
    loss_sum = torch.zeros((), dtype=torch.float64)
    correct = torch.zeros((), dtype=torch.float64)
    seen = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss = criterion(out, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss_sum += loss.detach() * len(y)
        correct += out.detach().argmax(1).eq(y).sum()
        seen += len(y)
    return (loss_sum / seen).item(), 100.0 * (correct / seen).item()


def _adapter():
    model, opt, loader = _workload()
    trainer = CNNTrainer(model, loader, optimizer=opt, device="cpu", mixed_precision=False)
    return trainer.train_epoch


def _plain():
    model, opt, loader = _workload()
    return lambda: plain_epoch(model, opt, loader)


def test_cnn_trainer_epoch_same_numbers_as_plain_loop():
    adapter, plain = _adapter(), _plain()
    for _ in range(2):
        got, (loss, acc) = adapter(), plain()
        assert abs(got["loss"] - loss) <= 1e-6 * abs(loss) and abs(got["accuracy"] - acc) <= 1e-9


def test_shim_overhead_vs_plain_loop(benchmark):
    ratio, cand, base = interleaved_ratio(_adapter(), _plain(), rounds=9)
    report(benchmark, "CNNTrainer.train_epoch (shim) / plain loop", ratio, 1.05, cand, base)
    benchmark.pedantic(_adapter(), rounds=3, iterations=1)
