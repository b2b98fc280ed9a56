"""Checks of the Trainer's arguments, with messages that say what was received and what to do."""

from __future__ import annotations

import difflib
import inspect
import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins.base import Plugin


def unknown_argument_error(cls: type, unknown: dict[str, Any]) -> ConfigurationError:
    valid = [p for p in inspect.signature(cls).parameters if p not in ("self", "unknown")]
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        parts.append(f"{name!r}{hint}")
    return ConfigurationError(
        f"{cls.__name__} got unknown argument(s) {', '.join(parts)}. Valid arguments: {', '.join(valid)}."
    )


def check_positive(name: str, value: Any, allow_none: bool = False, allow_zero: bool = False) -> None:
    if value is None and allow_none:
        return
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConfigurationError(f"{name} must be an int >= {low}; received {value!r}.")


def check_plugins(plugins: Sequence[Plugin]) -> list[Plugin]:
    plugins = list(plugins)
    roles: dict[str, Plugin] = {}
    for plugin in plugins:
        if not isinstance(plugin, Plugin):
            raise ConfigurationError(
                f"plugins must be pfdtrain.plugins.Plugin instances; received {type(plugin).__name__}."
            )
        if plugin.role is not None:
            if plugin.role in roles:
                raise ConfigurationError(
                    f"Two plugins fill the {plugin.role!r} role: {type(roles[plugin.role]).__name__} and "
                    f"{type(plugin).__name__}; keep one."
                )
            roles[plugin.role] = plugin
    return plugins


def as_callback(cb: Any) -> Callback:
    """A core Callback as is; a legacy one (``training.callbacks`` / ``training.cnn_callbacks``, or a
    plain ``f(trainer, metrics)``) wrapped by ``adapt_callback``; anything else is refused."""
    if isinstance(cb, Callback):
        return cb
    from pfdtrain.compat.callbacks import adapt_callback, is_legacy_callback

    if is_legacy_callback(cb):
        return adapt_callback(cb)
    raise ConfigurationError(
        f"callbacks must be pfdtrain.callbacks.Callback instances; received {type(cb).__name__}. "
        "Legacy callbacks are adapted by pfdtrain.compat.callbacks.adapt_callback()."
    )


def checkpoint_writers_last(callbacks: list[Callback]) -> list[Callback]:
    """Checkpoint writers run after the others so a checkpoint captures their state of the same moment."""
    others = [cb for cb in callbacks if not getattr(cb, "writes_checkpoints", False)]
    writers = [cb for cb in callbacks if getattr(cb, "writes_checkpoints", False)]
    return others + writers


def check_loader(name: str, loader: Any) -> None:
    if isinstance(loader, (torch.Tensor, str, bytes)) or not hasattr(loader, "__iter__"):
        raise ConfigurationError(
            f"{name} must be an iterable of batches such as a torch.utils.data.DataLoader; received "
            f"{type(loader).__name__}. Wrap tensors with DataLoader(TensorDataset(x, y), batch_size=32)."
        )


def on_device(model: nn.Module, device: torch.device) -> bool:
    """True when every parameter and buffer already lives on ``device`` (``.to`` would be a no-op)."""
    index = device.index
    if index is None and device.type == "cuda":
        index = torch.cuda.current_device()
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        if tensor.device.type != device.type or (index is not None and tensor.device.index != index):
            return False
    return True


def safe_len(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None
