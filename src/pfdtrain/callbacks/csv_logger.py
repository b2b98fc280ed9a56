"""Write the per-epoch history to a CSV file that is always complete and readable."""

from __future__ import annotations

import csv
import io
import os
from typing import Any

from pfdtrain.callbacks.history_file import HistoryFileLogger


class CSVLogger(HistoryFileLogger):
    """One row per epoch of ``trainer.history`` (every column), rewritten after each epoch.

    The whole file is rewritten through a temporary file and ``os.replace``, so the header grows
    when a metric first appears (validation every n-th epoch, say) and a reader never sees a torn
    file. Cells of metrics not logged in an epoch are empty. Only the global-zero process writes.
    Default location: ``trainer.default_root_dir / "logs" / name``.
    """

    def __init__(self, save_dir: str | os.PathLike[str] | None = None, name: str = "metrics.csv") -> None:
        super().__init__(save_dir, name)

    def render(self, history: Any) -> str:
        return render_csv(history)


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


