"""Shared code of the project. As LSTM-PFD's ``packages/core/__init__.py`` does, it re-exports the
legacy training package through a relative import, so ``packages.core.training.<module>`` reaches it."""

from . import training
