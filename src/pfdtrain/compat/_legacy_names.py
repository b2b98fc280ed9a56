"""Objects the legacy modules imported at module level and that are not plain library imports.

Each compat adapter binds them under the legacy name (``from ... import GradScaler``), the shims
serve them as ``training.<module>.<name>`` (``pfdtrain.legacy_map.MODULE_GLOBALS``), and the
adapter calls them through its own global, so a ``mock.patch`` of the legacy name takes effect:

* ``GradScaler`` / ``autocast``: legacy imported the ``torch.cuda.amp`` classes, deprecated
  (a ``FutureWarning`` per use) in the torch this project pins. The stand-ins take the same
  arguments and build the ``torch.amp`` objects for CUDA; without CUDA they are disabled silently
  (torch's own disabling notice is not repeated).
* ``tqdm``: ``tqdm.tqdm`` when installed; else :func:`no_progress_bar` (legacy failed to import).
* ``get_logger``: the legacy ``utils.logging.get_logger`` returned ``logging.getLogger(name)``.
* ``NUM_CLASSES`` / ``SIGNAL_LENGTH``: the legacy ``utils.constants`` values.
* The ``typing`` names (``Optional``, ``Dict``, ...) are ``typing``'s own objects, bound here so
  that each adapter's import list reads like legacy's.
"""

from __future__ import annotations

import collections.abc as abc
import logging
from typing import (  # noqa: UP035 - the legacy modules bound these typing names (served as training.<m>.<name>)
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Tuple,
)

import torch

from pfdtrain.physics.constants import NUM_CLASSES, SIGNAL_LENGTH

__all__ = [
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "Any",
    "Callable",
    "Dict",
    "GradScaler",
    "Iterable",
    "List",
    "Optional",
    "Tuple",
    "autocast",
    "get_logger",
    "legacy_model",
    "no_progress_bar",
    "small_signal_cnn",
    "tqdm",
]



def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``: what the legacy ``utils.logging.get_logger`` returned."""
    return logging.getLogger(name)


class GradScaler(torch.amp.GradScaler):
    """``torch.cuda.amp.GradScaler(init_scale, growth_factor, backoff_factor, growth_interval,
    enabled)`` without its deprecation warning: a CUDA ``torch.amp.GradScaler``, disabled where
    CUDA is missing (as torch disables it there)."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled and torch.cuda.is_available())


class autocast(torch.amp.autocast):
    """``torch.cuda.amp.autocast(enabled, dtype, cache_enabled)`` without its deprecation
    warning: CUDA autocast, a no-op where CUDA is missing."""

    def __init__(self, enabled: bool = True, dtype: torch.dtype = torch.float16, cache_enabled: bool = True) -> None:
        super().__init__("cuda", dtype=dtype, enabled=enabled and torch.cuda.is_available(),
                         cache_enabled=cache_enabled)


class no_progress_bar:
    """``tqdm(iterable, **kwargs)`` where tqdm is not installed: iterates, shows nothing."""

    def __init__(self, iterable: abc.Iterable[Any] | None = None, *args: Any, **kwargs: Any) -> None:
        self.iterable = iterable if iterable is not None else ()

    def __iter__(self) -> abc.Iterator[Any]:
        return iter(self.iterable)

    def __len__(self) -> int:
        return len(self.iterable)  # type: ignore[arg-type]  # as tqdm: only when the iterable has one

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        return None

    def close(self) -> None:
        return None


try:
    from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type stubs
except ImportError:  # tqdm is not a pfdtrain dependency; legacy needed it
    tqdm = no_progress_bar  # same call shape, no display


def legacy_model(module: str, name: str, stand_in: Callable[[], Any], **kwargs: Any) -> Any:
    """``name(**kwargs)`` from the legacy repository's ``module`` (``models.cnn.cnn_1d``) when it is
    importable, as the legacy self-tests and ``__main__`` blocks imported it; otherwise
    ``stand_in()``, a small model of the same interface, so they also run on pfdtrain alone."""
    import importlib

    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError:
        return stand_in()
    return cls(**kwargs)


def small_signal_cnn(num_classes: int = NUM_CLASSES) -> torch.nn.Module:
    """A tiny 1-D CNN for ``[B, 1, L]`` signals: the stand-in for the legacy CNN1D / HybridPINN."""
    from torch import nn

    return nn.Sequential(nn.AvgPool1d(64), nn.Conv1d(1, 8, kernel_size=7, padding=3), nn.ReLU(), nn.BatchNorm1d(8),
                         nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(8, num_classes))
