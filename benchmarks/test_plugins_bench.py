"""Costs of plugins as ratios against the plain Trainer in the same run (issue: plugins and tasks).

* bf16 autocast on CPU vs fp32, EMA vs none, gradient checkpointing vs none (time), and
  gradient checkpointing's activation memory vs none, on a deep 1-D CNN.
Run: ``.venv/bin/python -m pytest benchmarks/test_plugins_bench.py -s``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from bench_support import interleaved_ratio, report
from pfdtrain import Trainer
from pfdtrain.plugins import EMA, GradientCheckpointing, MixedPrecision


def deep_cnn(stages: int = 3, blocks_per_stage: int = 4, channels: int = 32) -> nn.Module:
    """12 conv blocks in 3 stages; checkpointing a stage keeps only its input for backward."""
    from collections import OrderedDict

    stem = nn.Sequential(nn.Conv1d(1, channels, 9, padding=4), nn.ReLU())
    layers: OrderedDict[str, nn.Module] = OrderedDict(stem=stem)
    for s in range(stages):
        layers[f"stage{s}"] = nn.Sequential(*[nn.Sequential(nn.Conv1d(channels, channels, 9, padding=4), nn.ReLU())
                                              for _ in range(blocks_per_stage)])
    layers["head"] = nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(channels, 11))
    return nn.Sequential(layers)


STAGES = ["stage0", "stage1", "stage2"]


def _loader():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 1, 1024, generator=g)
    y = torch.randint(0, 11, (256,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=32)


def _epoch(plugins):
    torch.manual_seed(0)
    model = deep_cnn()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.01), plugins=plugins(), max_epochs=0,
                      enable_progress_bar=False, device="cpu")
    loader = _loader()

    def run():
        trainer.max_epochs += 1
        trainer.fit(loader)

    return run


def test_bf16_autocast_vs_fp32_on_cpu(benchmark):
    ratio, c, b = interleaved_ratio(_epoch(lambda: [MixedPrecision("bf16-mixed")]), _epoch(list), rounds=3)
    report(benchmark, "bf16-mixed / fp32 (CPU, deep 1-D CNN)", ratio, None, c, b)
    benchmark.pedantic(lambda: None, rounds=1)


def test_ema_cost(benchmark):
    ratio, c, b = interleaved_ratio(_epoch(lambda: [EMA(decay=0.999)]), _epoch(list), rounds=3)
    report(benchmark, "EMA / none", ratio, None, c, b)
    benchmark.pedantic(lambda: None, rounds=1)


def test_gradient_checkpointing_time(benchmark):
    ckpt = lambda: [GradientCheckpointing(STAGES)]  # noqa: E731
    ratio, c, b = interleaved_ratio(_epoch(ckpt), _epoch(list), rounds=3)
    report(benchmark, "gradient checkpointing / none (time)", ratio, None, c, b)
    benchmark.pedantic(lambda: None, rounds=1)


def _saved_activation_bytes(model: nn.Module, x: torch.Tensor, plugin: GradientCheckpointing | None) -> int:
    """Bytes of tensors autograd keeps for backward after one forward (what checkpointing saves)."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor):
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    if plugin is not None:
        class _T:  # the plugin only needs .unwrapped_model at setup
            unwrapped_model = model
        plugin.setup(_T())
    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x).sum()
    if plugin is not None:
        plugin.teardown(None)
    return sum(seen.values())


def test_gradient_checkpointing_memory(benchmark):
    torch.manual_seed(0)
    model = deep_cnn()
    x = torch.randn(32, 1, 1024)
    plain = _saved_activation_bytes(model, x, None)
    ckpt = _saved_activation_bytes(model, x, GradientCheckpointing(STAGES))
    ratio = ckpt / plain
    benchmark.extra_info.update({"ratio": round(ratio, 4), "plain_bytes": plain, "checkpointed_bytes": ckpt})
    print(f"\ngradient checkpointing / none (activation memory kept for backward): {ratio:.3f}x "
          f"({ckpt / 2**20:.1f} MiB vs {plain / 2**20:.1f} MiB)")
    benchmark.pedantic(lambda: None, rounds=1)
