"""Plugins: how a step runs (precision, accumulation, clipping, EMA, checkpointing, DDP)."""

from pfdtrain.plugins.base import AccumulationPlugin, DistributedPlugin, Plugin, PrecisionPlugin

__all__ = ["AccumulationPlugin", "DistributedPlugin", "Plugin", "PrecisionPlugin"]
