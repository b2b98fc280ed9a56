"""Write the per-epoch history to a JSON file that is always valid JSON."""

from __future__ import annotations

import json
import math
import numbers
import os
from typing import Any

from pfdtrain.callbacks.history_file import HistoryFileLogger


class JSONLogger(HistoryFileLogger):
    """A JSON list with one ``{metric: value}`` dict per epoch of ``trainer.history``.

    Unlike the legacy ``MetricLogger``, which left a truncated file behind when it met a value
    ``json`` could not write, every value is converted *before* anything is written: tensors and
    numpy scalars become floats, NaN/inf become the strings ``"nan"``, ``"inf"``, ``"-inf"``, and
    any other object raises a ``TypeError`` naming the metric. The file is replaced atomically,
    so it is always complete, valid JSON. Metrics not logged in an epoch are omitted from that
    epoch's dict. Only the global-zero process writes. Default location:
    ``trainer.default_root_dir / "logs" / name``.
    """

    def __init__(self, save_dir: str | os.PathLike[str] | None = None, name: str = "metrics.json") -> None:
        super().__init__(save_dir, name)

    def render(self, history: Any) -> str:
        return render_json(history)


def render_json(history: Any) -> str:
    """JSON text (a list of per-epoch dicts) of a History-like mapping ``{column: [values]}``."""
    columns = list(history)
    rows = max((len(history[c]) for c in columns), default=0)
    records: list[dict[str, Any]] = []
    for i in range(rows):
        record: dict[str, Any] = {}
        for c in columns:
            values = history[c]
            if i < len(values) and values[i] is not None:
                record[str(c)] = json_value(values[i], f"metric {c!r} of epoch {i}")
        records.append(record)
    return json.dumps(records, indent=2, allow_nan=False) + "\n"


def json_value(value: Any, what: str = "value") -> Any:
    """A JSON-safe scalar: numbers stay numbers, non-finite floats become strings."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _nonfinite(value)
    item = getattr(value, "item", None)
    size = getattr(value, "numel", None)
    count = size() if callable(size) else getattr(value, "size", 1)
    if callable(item) and count == 1:  # 0-d/1-element tensors, numpy scalars and 1-element arrays
        return json_value(item(), what)
    if isinstance(value, numbers.Real):
        return json_value(float(value), what)
    raise TypeError(
        f"JSONLogger cannot write {what}: a {type(value).__name__} is not a number. Log numbers "
        "(floats, ints, 0-d tensors, numpy scalars); nothing was written."
    )


def _nonfinite(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"
