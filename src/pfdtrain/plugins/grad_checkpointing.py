"""Gradient (activation) checkpointing for chosen submodules: less memory, some recomputation."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins.base import Plugin

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


class GradientCheckpointing(Plugin):
    """Recompute the activations of the chosen submodules in backward instead of storing them.

    ``modules`` are dotted names (``"features.3"``) or module types (``nn.Conv1d``); a type
    selects every submodule of that type (outermost matches only). Dropout inside is replayed
    with the same RNG state, so gradients equal those of the plain run.
    """

    def __init__(self, modules: Sequence[str | type[nn.Module]]) -> None:
        if isinstance(modules, (str, type)):
            modules = [modules]
        if not modules:
            raise ConfigurationError("GradientCheckpointing needs at least one module name or type.")
        self.targets = list(modules)
        self._wrapped: list[nn.Module] = []

    def select(self, model: nn.Module) -> list[nn.Module]:
        names = dict(model.named_modules())
        chosen: list[tuple[str, nn.Module]] = []
        for target in self.targets:
            if isinstance(target, str):
                if target not in names:
                    close = [n for n in names if n and (target in n or n in target)][:5]
                    raise ConfigurationError(
                        f"GradientCheckpointing: the model has no submodule {target!r}"
                        + (f"; close names: {close}" if close else f"; names look like {list(names)[1:6]}")
                    )
                chosen.append((target, names[target]))
            elif isinstance(target, type) and issubclass(target, nn.Module):
                found = [(n, m) for n, m in names.items() if n and isinstance(m, target)]
                if not found:
                    raise ConfigurationError(f"GradientCheckpointing: the model has no {target.__name__} submodule.")
                chosen.extend(found)
            else:
                raise ConfigurationError(
                    f"GradientCheckpointing targets are dotted names or nn.Module types; received {target!r}."
                )
        chosen.sort(key=lambda item: item[0])
        outermost: list[tuple[str, nn.Module]] = []
        for name, module in chosen:
            if not any(name.startswith(prefix + ".") or name == prefix for prefix, _ in outermost):
                outermost.append((name, module))
        return [m for _, m in outermost]

    def setup(self, trainer: Trainer) -> None:
        if self._wrapped:
            return
        for module in self.select(trainer.unwrapped_model):
            original = module.forward

            @functools.wraps(original)
            def forward(
                *args: Any, _original: Callable[..., Any] = original, _module: nn.Module = module, **kwargs: Any
            ) -> Any:
                if _module.training and torch.is_grad_enabled():
                    return checkpoint(_original, *args, use_reentrant=False, **kwargs)
                return _original(*args, **kwargs)

            module.forward = forward  # instance attribute: the class is untouched
            self._wrapped.append(module)

    def teardown(self, trainer: Trainer) -> None:
        for module in self._wrapped:
            vars(module).pop("forward", None)
        self._wrapped = []
