"""Stands in for the legacy ``training`` package (LSTM-PFD's ``packages/core/training``, which is
not ours to ship). Like the legacy ``__init__`` it exports nothing; while this folder exists, its
modules (``packages.core.training.optimizers``, ...) are served by pfdtrain's drop-in shims.
``pfdtrain demo`` removes it once the code no longer imports it, as a migration ends."""

__all__ = []
