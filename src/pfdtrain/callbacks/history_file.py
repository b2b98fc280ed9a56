"""Shared base of the loggers that rewrite the whole per-epoch history to one file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pfdtrain.callbacks._utils import atomic_write_text, default_dir
from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


class HistoryFileLogger(Callback):
    """Renders ``trainer.history`` with :meth:`render` and replaces the file atomically each epoch.

    Rendering happens before any file is touched, so a value that cannot be written raises with
    the old file intact. Only the global-zero process writes. Default location:
    ``trainer.default_root_dir / "logs" / name``.
    """

    def __init__(self, save_dir: str | os.PathLike[str] | None, name: str) -> None:
        _check_name(type(self).__name__, name)
        self.save_dir = Path(save_dir) if save_dir is not None else None
        self.name = name
        self.path: Path | None = None

    @property
    def state_key(self) -> str:
        return self._generate_state_key(save_dir=None if self.save_dir is None else str(self.save_dir), name=self.name)

    def render(self, history: Any) -> str:
        raise NotImplementedError

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        if not getattr(trainer, "is_global_zero", True):
            return
        text = self.render(trainer.history)  # raises before any file is touched
        self.path = default_dir(trainer, self.save_dir, "logs") / self.name
        atomic_write_text(self.path, text)


def _check_name(owner: str, name: Any) -> None:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ConfigurationError(
            f"{owner}(name=...) must be a file name (use save_dir= for the folder); received {name!r}."
        )

