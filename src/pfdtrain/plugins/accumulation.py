"""Gradient accumulation: k batches of size b make the same update as one batch of size k*b."""

from __future__ import annotations

from typing import Literal

from pfdtrain.plugins.base import AccumulationPlugin


class GradientAccumulation(AccumulationPlugin):
    """Step the optimizer every ``k`` batches, each batch's loss scaled by 1/(batches in its window).

    The last window of an epoch may hold fewer than ``k`` batches: it is still stepped, and scaled
    by its true size, so no gradient leaks into the next epoch. ``global_step``, step-interval
    schedulers and step-based callbacks count optimizer steps, not batches.
    """

    def __init__(self, k: int, partial_window: Literal["step", "drop"] = "step") -> None:
        super().__init__(k, partial_window)
