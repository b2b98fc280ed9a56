"""Write the per-epoch history to a CSV file that is always complete and readable."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pfdtrain.callbacks._utils import atomic_write_text, default_dir
from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


class CSVLogger(Callback):
    """One row per epoch of ``trainer.history`` (every column), rewritten after each epoch.

    The whole file is rewritten through a temporary file and ``os.replace``, so the header grows
    when a metric first appears (validation every n-th epoch, say) and a reader never sees a torn
    file. Cells of metrics not logged in an epoch are empty. Only the global-zero process writes.
    Default location: ``trainer.default_root_dir / "logs" / name``.
    """

    def __init__(self, save_dir: str | os.PathLike | None = None, name: str = "metrics.csv") -> None:
        _check_name("CSVLogger", name)
        self.save_dir = Path(save_dir) if save_dir is not None else None
        self.name = name
        self.path: Path | None = None

    @property
    def state_key(self) -> str:
        return self._generate_state_key(save_dir=None if self.save_dir is None else str(self.save_dir), name=self.name)

    def on_train_epoch_end(self, trainer: "Trainer") -> None:
        if not getattr(trainer, "is_global_zero", True):
            return
        self.path = default_dir(trainer, self.save_dir, "logs") / self.name
        atomic_write_text(self.path, render_csv(trainer.history))


def render_csv(history: Any) -> str:
    """CSV text of a History-like mapping ``{column: [value per epoch]}``."""
    columns = list(history)
    rows = max((len(history[c]) for c in columns), default=0)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for i in range(rows):
        row = []
        for c in columns:
            values = history[c]
            value = values[i] if i < len(values) else None
            row.append("" if value is None else _cell(value))
        writer.writerow(row)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)):
        return value
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _check_name(owner: str, name: Any) -> None:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ConfigurationError(
            f"{owner}(name=...) must be a file name (use save_dir= for the folder); received {name!r}."
        )
