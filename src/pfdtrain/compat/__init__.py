"""Legacy-API adapters: one module per legacy ``training.<module>``, same public names.

Each adapter keeps the legacy signatures, defaults, return values, warnings and errors (even
where legacy was wrong) and delegates the numerics to the core packages (``pfdtrain.losses``,
``pfdtrain.physics``, ``pfdtrain.optim``, ``pfdtrain.metrics``, ``pfdtrain.augment``). Nothing is
imported eagerly here, so importing one adapter never pulls in the others.

The adapters load as attributes on first use (``pfdtrain.compat.cnn_trainer``), as the shims'
legacy package does: after ``pfdtrain codemod`` turns ``from . import training`` into
``from pfdtrain import compat as training``, ``packages.core.training.cnn_trainer.CNNTrainer``
keeps working with the shims disabled.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def __getattr__(name: str) -> ModuleType:
    from pfdtrain.legacy_map import LEGACY_MODULES

    if name in LEGACY_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
