"""Where each v1 checkpoint key lives in v2, read from the migration's own layout table.

The migration converts files by :data:`pfdtrain.migration.v1_layouts.SPECS`; the advice given to
code that reads the old keys must name the very place the migration puts each value, so it is
derived from the same table here, never listed a second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

#: The v2 home of a layout's weights key (``model_state_dict``, ``state_dict``, ...).
WEIGHTS_PATH: tuple[str, ...] = ("model", "state_dict")


@dataclass(frozen=True)
class KeyHome:
    """One v1 key and its place in a v2 checkpoint, for the legacy layouts that write it there.

    ``offset``: the v2 value is the v1 value plus this number (``epoch``: 1); 0 when the value is
    moved unchanged; None when the migration converts it some other way (``note`` says how).
    """

    v1_key: str
    v2_path: tuple[str, ...]
    layouts: tuple[str, ...]
    note: str = ""
    offset: int | None = 0

    @property
    def dotted(self) -> str:
        return ".".join(self.v2_path)


@cache
def key_homes() -> dict[str, tuple[KeyHome, ...]]:
    """Every key a legacy writer stores, with its v2 home(s) (usually one), in table order."""
    from pfdtrain.migration.layouts import ROOT
    from pfdtrain.migration.v1_layouts import SPECS

    found: dict[str, dict[tuple[str, ...], tuple[list[str], str, int | None]]] = {}
    for spec in SPECS:
        keys = list(spec.keys) + [f.v1_key for f in spec.fields if f.v1_key not in spec.keys]
        if spec.weights_key != ROOT and spec.weights_key not in keys:
            keys.append(spec.weights_key)
        for key in keys:
            path: tuple[str, ...]
            note: str
            offset: int | None
            if key == spec.weights_key:
                path, note, offset = WEIGHTS_PATH, "", 0
            else:
                spec_field = spec.field_for(key)
                if spec_field is None:  # no home of its own: kept under its name
                    path, note, offset = ("extra", key), "", 0
                else:
                    path, note, offset = spec_field.v2_path, spec_field.note, _offset(spec_field.to_v2)
            layouts, _, _ = found.setdefault(key, {}).setdefault(path, ([], note, offset))
            layouts.append(spec.name)
    return {key: tuple(KeyHome(key, path, tuple(layouts), note, offset)
                       for path, (layouts, note, offset) in paths.items())
            for key, paths in found.items()}


@cache
def v1_keys() -> frozenset[str]:
    return frozenset(key_homes())


@cache
def layout_keys() -> dict[str, frozenset[str]]:
    """Each legacy layout's key set (its weights key included), for ``--downgrade`` advice."""
    from pfdtrain.migration.layouts import ROOT
    from pfdtrain.migration.v1_layouts import SPECS

    return {spec.name: frozenset(spec.keys) | ({spec.weights_key} - {ROOT}) for spec in SPECS}


def _offset(to_v2: Callable[[Any], Any]) -> int | None:
    """The constant the conversion adds (0 for an unchanged value), or None when it is not one.

    Probed on a few integers: the table's conversions are plain functions of the value.
    """
    try:
        shifts = {to_v2(n) - n for n in (0, 1, 7, 100)}
    except Exception:  # a conversion that only takes other kinds of values
        return None
    if len(shifts) == 1:
        shift = shifts.pop()
        if isinstance(shift, int) and not isinstance(shift, bool):
            return shift
    return None
