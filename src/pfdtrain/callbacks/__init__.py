"""Callbacks: observe and control the loop (early stopping, checkpoints, loggers, progress)."""

from pfdtrain.callbacks.base import HOOKS, Callback, CallbackList

__all__ = ["HOOKS", "Callback", "CallbackList"]
