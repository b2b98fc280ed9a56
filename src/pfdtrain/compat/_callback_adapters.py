"""Core-Callback wrappers for both legacy callback APIs (see ``callbacks.adapt_callback``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch

from pfdtrain.callbacks.base import Callback
from pfdtrain.compat.callbacks import Callback as OldApiBase
from pfdtrain.compat.callbacks import _legacy_metrics, _positional_count


def is_new_api(obj: Any) -> bool:
    """A ``training.cnn_callbacks`` callback: hooks ``on_epoch_end(epoch, logs)``, not callable."""
    from pfdtrain.compat.cnn_callbacks import Callback as NewApiBase

    if isinstance(obj, NewApiBase):
        return True
    if isinstance(obj, OldApiBase) or callable(obj):
        return False
    hook = getattr(obj, "on_epoch_end", None)
    count = _positional_count(hook) if callable(hook) else None
    return count is not None and count <= 2


def _epoch_values(trainer: Any) -> dict[str, Any]:
    """The epoch the core just finished, with legacy names (``*_acc`` in percent)."""
    row = {k: v[-1] for k, v in trainer.history.items()
           if v and v[-1] is not None and k.startswith(("train_", "val_"))}
    return _legacy_metrics(row)


class LegacyState:
    """``trainer.state`` as old-API callbacks knew it, read from the core Trainer."""

    best_metric = float("inf")
    best_epoch = 0
    patience_counter = 0

    def __init__(self, core: Any) -> None:
        self._core = core

    @property
    def epoch(self) -> int:
        return self._core.current_epoch

    @property
    def history(self) -> dict[str, list]:
        hist = self._core.history
        out: dict[str, list] = {k: [] for k in ("train_loss", "val_loss", "train_acc", "val_acc")}
        for key in hist:
            if key.startswith(("train_", "val_")):
                scale = 100.0 if key in ("train_acc", "val_acc") else 1.0
                out[key] = [v * scale for v in hist[key] if v is not None]
        return out


class LegacyTrainerView:
    """What an old-API callback receives as ``trainer``: the core Trainer (every attribute read
    and written through) plus ``state`` and ``model`` (the unwrapped model) as legacy had them."""

    def __init__(self, core: Any) -> None:
        object.__setattr__(self, "_core", core)

    @property
    def model(self) -> torch.nn.Module:
        return self._core.unwrapped_model

    @property
    def state(self) -> LegacyState:
        return LegacyState(self._core)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._core, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._core, name, value)


class OldApiCallback(Callback):
    """An old-API callback driven by the core loop; ``StopIteration`` means ``should_stop``."""

    def __init__(self, callback: Any) -> None:
        self.callback = callback
        self._view: LegacyTrainerView | None = None

    @property
    def state_key(self) -> str:
        return self._generate_state_key(legacy=type(self.callback).__qualname__, id=id(self.callback))

    def _trainer(self, trainer: Any) -> LegacyTrainerView:
        if self._view is None or self._view._core is not trainer:
            self._view = LegacyTrainerView(trainer)
        return self._view

    def _hook(self, name: str, *args: Any) -> None:
        hook = getattr(self.callback, name, None)
        if callable(hook):
            hook(*args)

    def on_fit_start(self, trainer: Any) -> None:
        self._hook("on_train_begin", self._trainer(trainer))

    def on_train_epoch_start(self, trainer: Any) -> None:
        self._hook("on_epoch_begin", self._trainer(trainer), trainer.current_epoch)

    def on_train_epoch_end(self, trainer: Any) -> None:
        view, metrics = self._trainer(trainer), _epoch_values(trainer)
        try:
            if callable(self.callback):
                self.callback(view, metrics)
            else:
                self.callback.on_epoch_end(view, trainer.current_epoch, metrics)
        except StopIteration:
            trainer.should_stop = True

    def on_fit_end(self, trainer: Any) -> None:
        self._hook("on_train_end", self._trainer(trainer))


class _BatchLogs(Mapping):
    """``{'loss': value}`` for ``on_batch_end``; the value is read from the device only if used."""

    __slots__ = ("_loss",)

    def __init__(self, loss: torch.Tensor) -> None:
        self._loss = loss

    def __getitem__(self, key: str) -> float:
        if key != "loss":
            raise KeyError(key)
        return float(self._loss.detach())

    def __iter__(self) -> Iterator[str]:
        return iter(("loss",))

    def __len__(self) -> int:
        return 1


class NewApiCallback(Callback):
    """A new-API (``cnn_callbacks``) callback driven by the core loop; ``should_stop`` is polled."""

    def __init__(self, callback: Any) -> None:
        from pfdtrain.compat.cnn_callbacks import Callback as NewApiBase

        self.callback = callback
        base = NewApiBase if isinstance(callback, NewApiBase) else None
        # batch hooks cost a call per batch: dispatch them only when the callback has them
        if _overrides(callback, "on_batch_begin", base):
            self.on_train_batch_start = self._batch_begin  # type: ignore[method-assign]  # only when used
        if _overrides(callback, "on_batch_end", base):
            if getattr(callback, "reads_gradients", False):
                self.on_before_optimizer_step = self._batch_end_with_gradients  # type: ignore[method-assign]  # as above
            else:
                self.on_train_batch_end = self._batch_end  # type: ignore[method-assign]  # as above

    @property
    def state_key(self) -> str:
        return self._generate_state_key(legacy=type(self.callback).__qualname__, id=id(self.callback))

    def _poll(self, trainer: Any) -> None:
        if getattr(self.callback, "should_stop", False):
            trainer.should_stop = True

    def _call(self, name: str, *args: Any) -> None:
        hook = getattr(self.callback, name, None)
        if callable(hook):
            hook(*args)

    def on_fit_start(self, trainer: Any) -> None:
        self._call("on_train_begin", None)
        self._poll(trainer)

    def on_train_epoch_start(self, trainer: Any) -> None:
        self._call("on_epoch_begin", trainer.current_epoch, None)
        self._poll(trainer)

    def _batch_begin(self, trainer: Any, batch: Any, batch_idx: int) -> None:
        self.callback.on_batch_begin(batch_idx, None)

    def _batch_end(self, trainer: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.callback.on_batch_end(batch_idx, _BatchLogs(outputs.loss))
        self._poll(trainer)

    def _batch_end_with_gradients(self, trainer: Any, optimizer: Any) -> None:
        out = trainer.last_step_output
        self.callback.on_batch_end(trainer.batch_idx, _BatchLogs(out.loss) if out is not None else None)
        self._poll(trainer)

    def on_train_epoch_end(self, trainer: Any) -> None:
        logs = _epoch_values(trainer)
        lr = trainer.history.last("lr")
        if lr is not None:
            logs["lr"] = lr
        self.callback.on_epoch_end(trainer.current_epoch, logs)
        self._poll(trainer)

    def on_fit_end(self, trainer: Any) -> None:
        self._call("on_train_end", None)


def _overrides(obj: Any, name: str, base: type | None) -> bool:
    hook = getattr(obj, name, None)
    if not callable(hook):
        return False
    if base is None:
        return True
    return getattr(type(obj), name, None) is not getattr(base, name, None) or name in vars(obj)
