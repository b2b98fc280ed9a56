"""Ratio helpers for benchmarks: candidate and baseline timed in the same process."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved_ratio(candidate: Callable[[], object], baseline: Callable[[], object], rounds: int = 7,
                      warmup: int = 1) -> tuple[float, float, float]:
    """Median of per-round ratios candidate/baseline; returns (ratio, median candidate s, median baseline s).

    Each round times both back to back, in alternating order (ABBA), so slow drift of the machine
    (another process, frequency changes) and any first-runner advantage cancel within a round.
    """
    for _ in range(warmup):
        baseline()
        candidate()
    ratios, cand, base = [], [], []
    for i in range(rounds):
        order = (baseline, candidate) if i % 2 == 0 else (candidate, baseline)
        times = {}
        for fn in order:
            t = time.perf_counter()
            fn()
            times[fn] = time.perf_counter() - t
        cand.append(times[candidate])
        base.append(times[baseline])
        ratios.append(times[candidate] / times[baseline])
    return statistics.median(ratios), statistics.median(cand), statistics.median(base)


def report(benchmark, name: str, ratio: float, target: float | None, candidate_s: float, baseline_s: float) -> None:
    """Print and record a ratio; ``target=None`` for ratios that are reported, not targeted."""
    benchmark.extra_info.update({"ratio": round(ratio, 4), "target": target,
                                 "candidate_s": candidate_s, "baseline_s": baseline_s})
    goal = f"target <= {target}x; " if target is not None else ""
    print(f"\n{name}: {ratio:.3f}x ({goal}candidate {candidate_s * 1e3:.1f} ms, baseline {baseline_s * 1e3:.1f} ms)")


def tiny_mlp_workload():
    """The overhead benchmarks' workload: an MLP on 4,096 inputs of length 64, batch 32, 11 classes."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(0)
    x = torch.randn(4096, 64, generator=g)
    y = torch.randint(0, 11, (4096,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=False)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 11))
    return model, loader

