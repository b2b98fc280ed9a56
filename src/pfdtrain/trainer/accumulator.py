"""Epoch means of per-batch metrics, accumulated on the device without a sync per batch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

#: Pending per-batch values are folded into running sums this often; a fixed boundary (not one
#: chosen by when a checkpoint happens) keeps the floating-point summation order identical
#: between a straight run and a resumed one.
FOLD_EVERY = 256


class MetricAccumulator:
    """Sample-weighted means: ``sum(value_b * size_b) / sum(size_b)`` per metric name."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._pending: list[tuple[Mapping[str, torch.Tensor], int]] = []
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, float] = {}
        self._batches = 0

    def update(self, metrics: Mapping[str, torch.Tensor], batch_size: int) -> None:
        self._pending.append((metrics, batch_size))
        self._batches += 1
        if self._batches % FOLD_EVERY == 0:
            self._fold()

    def _fold(self) -> None:
        if not self._pending:
            return
        values: dict[str, list[torch.Tensor]] = {}
        sizes: dict[str, list[int]] = {}
        for metrics, size in self._pending:
            for key, value in metrics.items():
                values.setdefault(key, []).append(value)
                sizes.setdefault(key, []).append(size)
        self._pending = []
        for key, vals in values.items():
            try:
                stacked = torch.stack(vals).detach().reshape(len(vals))  # one op for the whole window
            except RuntimeError:  # mixed shapes such as () and (1,)
                stacked = torch.stack([v.detach().reshape(()) for v in vals])
            dtype = torch.float32 if stacked.device.type == "mps" else torch.float64
            weights = torch.tensor(sizes[key], dtype=dtype, device=stacked.device)
            total = (stacked.to(dtype) * weights).sum()
            self._sums[key] = self._sums[key] + total if key in self._sums else total
            self._counts[key] = self._counts.get(key, 0.0) + float(sum(sizes[key]))

    def compute(self, reduce: Callable[[torch.Tensor], torch.Tensor] | None = None) -> dict[str, float]:
        """Epoch means as Python floats: the one host synchronisation of the epoch.

        ``reduce`` sums a ``[2, n]`` tensor of sums and counts over processes (DDP).
        """
        self._fold()
        if not self._sums:
            return {}
        keys = list(self._sums)
        sums = torch.stack([self._sums[k] for k in keys])
        counts = torch.tensor([self._counts[k] for k in keys], dtype=sums.dtype, device=sums.device)
        table = torch.stack([sums, counts])
        if reduce is not None:
            table = reduce(table)
        means = (table[0] / table[1]).tolist()
        return dict(zip(keys, means, strict=True))

    @property
    def num_batches(self) -> int:
        return self._batches

    def state_dict(self) -> dict[str, Any]:
        keys = sorted({k for metrics, _ in self._pending for k in metrics})
        return {
            "batches": self._batches,
            "sums": {k: v.detach().cpu() for k, v in self._sums.items()},
            "counts": dict(self._counts),
            "pending": [
                ({k: v.detach().reshape(()).cpu() for k, v in metrics.items()}, size)
                for metrics, size in self._pending
            ],
            "pending_keys": keys,
        }

    def load_state_dict(self, state: Mapping[str, Any], device: torch.device) -> None:
        self.reset()
        self._batches = int(state["batches"])
        self._sums = {k: v.to(device) for k, v in state["sums"].items()}
        self._counts = {k: float(v) for k, v in state["counts"].items()}
        self._pending = [({k: v.to(device) for k, v in m.items()}, int(n)) for m, n in state["pending"]]
