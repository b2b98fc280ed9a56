"""Epoch means of per-batch metrics, accumulated on the device without a sync per batch."""

from __future__ import annotations

from typing import Any, Callable, Mapping

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
        self._pending: dict[str, list[torch.Tensor]] = {}
        self._pending_sizes: dict[str, list[int]] = {}
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, float] = {}
        self._batches = 0

    def update(self, metrics: Mapping[str, torch.Tensor], batch_size: int) -> None:
        for key, value in metrics.items():
            self._pending.setdefault(key, []).append(value)
            self._pending_sizes.setdefault(key, []).append(batch_size)
        self._batches += 1
        if self._batches % FOLD_EVERY == 0:
            self._fold()

    def _fold(self) -> None:
        for key, values in self._pending.items():
            if not values:
                continue
            sizes = self._pending_sizes[key]
            stacked = torch.stack([v.detach().reshape(()) for v in values])
            dtype = torch.float32 if stacked.device.type == "mps" else torch.float64
            weights = torch.tensor(sizes, dtype=dtype, device=stacked.device)
            total = (stacked.to(dtype) * weights).sum()
            self._sums[key] = self._sums[key] + total if key in self._sums else total
            self._counts[key] = self._counts.get(key, 0.0) + float(sum(sizes))
            values.clear()
            sizes.clear()

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
        return dict(zip(keys, means))

    @property
    def num_batches(self) -> int:
        return self._batches

    def state_dict(self) -> dict[str, Any]:
        return {
            "batches": self._batches,
            "sums": {k: v.detach().cpu() for k, v in self._sums.items()},
            "counts": dict(self._counts),
            "pending": {
                k: torch.stack([t.detach().reshape(()) for t in v]).cpu() if v else torch.empty(0)
                for k, v in self._pending.items()
            },
            "pending_sizes": {k: list(v) for k, v in self._pending_sizes.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any], device: torch.device) -> None:
        self.reset()
        self._batches = int(state["batches"])
        self._sums = {k: v.to(device) for k, v in state["sums"].items()}
        self._counts = {k: float(v) for k, v in state["counts"].items()}
        self._pending = {k: list(v.to(device).unbind(0)) for k, v in state["pending"].items()}
        self._pending_sizes = {k: list(v) for k, v in state["pending_sizes"].items()}
