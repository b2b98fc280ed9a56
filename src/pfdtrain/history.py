"""Per-epoch record of every logged metric and the learning rate."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


class History(Mapping[str, list[Any]]):
    """``history["val_loss"][e]`` is the value of epoch ``e``; ``None`` where it was not logged.

    Every list has one entry per completed epoch, so lists stay aligned even when a metric is
    logged only on some epochs (validation every second epoch, say).
    """

    def __init__(self, data: Mapping[str, list[Any]] | None = None) -> None:
        self._data: dict[str, list[Any]] = {}
        self._epochs = 0
        if data:
            lengths = {len(v) for v in data.values()}
            if len(lengths) > 1:
                raise ValueError(f"History lists must have equal lengths, got {sorted(lengths)}")
            self._data = {str(k): list(v) for k, v in data.items()}
            self._epochs = lengths.pop() if lengths else 0

    def append(self, metrics: Mapping[str, Any]) -> None:
        """Add one epoch; new metric names get ``None`` for the earlier epochs."""
        for key in metrics:
            if key not in self._data:
                self._data[key] = [None] * self._epochs
        for key, values in self._data.items():
            values.append(_plain(metrics.get(key)))
        self._epochs += 1

    @property
    def num_epochs(self) -> int:
        return self._epochs

    def last(self, key: str, default: Any = None) -> Any:
        values = self._data.get(key)
        return values[-1] if values else default

    def __getitem__(self, key: str) -> list[Any]:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, History):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"History(epochs={self._epochs}, keys={list(self._data)})"

    def to_dict(self) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in self._data.items()}

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        """JSON text (non-finite floats as strings "nan"/"inf"/"-inf"); also written to ``path``."""
        text = json.dumps(
            {k: [_json_safe(x) for x in v] for k, v in self._data.items()}, indent=indent
        )
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> History:
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text(encoding="utf-8")
        raw = json.loads(text)
        return cls({k: [_from_json_safe(x) for x in v] for k, v in raw.items()})


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):
        return value.item()
    return float(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _from_json_safe(value: Any) -> Any:
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return value
