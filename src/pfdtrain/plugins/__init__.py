"""Plugins: how a step runs (precision, accumulation, clipping, EMA, checkpointing, DDP)."""

from pfdtrain.plugins.accumulation import GradientAccumulation
from pfdtrain.plugins.base import AccumulationPlugin, DistributedPlugin, Plugin, PrecisionPlugin
from pfdtrain.plugins.clipping import GradientClipping
from pfdtrain.plugins.ddp import DDP
from pfdtrain.plugins.ema import EMA
from pfdtrain.plugins.grad_checkpointing import GradientCheckpointing
from pfdtrain.plugins.precision import MixedPrecision

__all__ = [
    "DDP", "EMA", "AccumulationPlugin", "DistributedPlugin", "GradientAccumulation", "GradientCheckpointing",
    "GradientClipping", "MixedPrecision", "Plugin", "PrecisionPlugin",
]
