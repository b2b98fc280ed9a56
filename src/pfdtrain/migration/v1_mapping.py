"""One table per legacy layout, read both ways: v1 dict -> v2 checkpoint, and back.

A :class:`LayoutSpec` says where the weights are and which v1 keys have a home in v2
(``epoch`` -> ``training.epoch``, ``optimizer_state_dict`` -> ``optimizer``, ...). Every other
key goes to ``extra`` under its own name, so nothing is dropped, and ``extra.migrated_from``
records the original key order and the wrapper prefixes taken off the weights. Upgrading and
downgrading read the same table, which keeps them inverse to each other. Both are pure: the
input is never modified and tensors are shared, never copied (a memory-mapped 1 GB file stays
on disk).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

from pfdtrain.checkpoint.format import new_checkpoint
from pfdtrain.migration.layouts import ROOT, wrapper_prefixes

#: ``extra`` key that holds what a downgrade needs (original key order, prefixes, conversions).
MIGRATED_FROM = "migrated_from"


def _same(value: Any) -> Any:
    return value


def _anything(value: Any) -> bool:
    return True


@dataclass(frozen=True)
class Field:
    """A v1 key with a home in v2. ``accepts`` guards odd values (they go to ``extra`` instead)."""

    v1_key: str
    v2_path: tuple[str, ...]
    to_v2: Callable[[Any], Any] = _same
    to_v1: Callable[[Any], Any] = _same
    accepts: Callable[[Any], bool] = _anything
    note: str = ""


@dataclass(frozen=True)
class LayoutSpec:
    """How one legacy writer's dict maps onto v2.

    ``keys`` is the writer's key order (used to downgrade a file that was not migrated from this
    layout); keys in ``optional`` are left out when v2 has no value for them; ``defaults`` give a
    value (from the v2 checkpoint) for keys that v2 cannot hold otherwise.
    """

    name: str
    writer: str
    weights_key: str
    fields: tuple[Field, ...] = ()
    keys: tuple[str, ...] = ()
    optional: frozenset[str] = frozenset()
    defaults: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)

    def field_for(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.v1_key == key), None)

    # ------------------------------------------------------------ v1 -> v2

    def upgrade(self, v1: Mapping[str, Any]) -> dict[str, Any]:
        """A complete v2 checkpoint holding every value of ``v1`` (tensors shared, not copied)."""
        weights = v1 if self.weights_key == ROOT else v1[self.weights_key]
        prefixes = wrapper_prefixes(weights)
        sections: dict[str, Any] = {
            "model": {"state_dict": strip_prefixes(weights, prefixes), "architecture": None, "config": {}},
            "training": {},
            "config": {},
            "extra": {},
        }
        rest = {} if self.weights_key == ROOT else {k: v for k, v in v1.items() if k != self.weights_key}
        for key, value in rest.items():
            spec_field = self.field_for(key)
            if spec_field is not None and spec_field.accepts(value):
                _set_path(sections, spec_field.v2_path, spec_field.to_v2(value))
            else:
                sections["extra"][key] = value
        if MIGRATED_FROM in sections["extra"]:
            raise ValueError(f"the v1 checkpoint has a key {MIGRATED_FROM!r}, which v2 reserves for migration records")
        sections["extra"][MIGRATED_FROM] = {
            "format": "v1",
            "layout": self.name,
            "writer": self.writer,
            "keys": None if self.weights_key == ROOT else list(v1),
            "weights_key": self.weights_key,
            "weights_key_prefixes": list(prefixes),
        }
        return new_checkpoint(**sections)

    def describe(self, v1: Mapping[str, Any]) -> list[str]:
        """What :meth:`upgrade` does to ``v1``, one line per key, for ``--dry-run`` and reports."""
        weights = v1 if self.weights_key == ROOT else v1[self.weights_key]
        prefixes = "".join(wrapper_prefixes(weights))
        source = "the top-level state_dict" if self.weights_key == ROOT else self.weights_key
        lines = [f"{source} -> model.state_dict ({len(weights)} entries"
                 + (f", prefix {prefixes!r} removed)" if prefixes else ")")]
        if self.weights_key == ROOT:
            return lines
        for key, value in v1.items():
            if key == self.weights_key:
                continue
            spec_field = self.field_for(key)
            if spec_field is not None and spec_field.accepts(value):
                note = f" ({spec_field.note})" if spec_field.note else ""
                if spec_field.to_v2 is not _same:
                    note = f": {value!r} -> {spec_field.to_v2(value)!r}{note}"
                lines.append(f"{key} -> {'.'.join(spec_field.v2_path)}{note}")
            else:
                lines.append(f"{key} -> extra.{key}")
        return lines

    # ------------------------------------------------------------ v2 -> v1

    def downgrade(self, v2: Mapping[str, Any]) -> Any:
        """The v1 object this layout's writer would have saved (original key order when known)."""
        record = (v2.get("extra") or {}).get(MIGRATED_FROM) or {}
        same_layout = record.get("layout") == self.name
        prefixes = record.get("weights_key_prefixes", []) if same_layout else []
        weights = add_prefixes(v2["model"]["state_dict"], prefixes)
        if self.weights_key == ROOT:
            return weights
        recorded = record.get("keys") if same_layout else None
        keys: Sequence[str] = recorded if recorded else self.keys
        extra = {k: v for k, v in (v2.get("extra") or {}).items() if k != MIGRATED_FROM}
        v1: dict[str, Any] = {}
        for key in keys:
            if key == self.weights_key:
                v1[key] = weights
                continue
            found, value = self._value_for(key, v2, extra, exact=same_layout)
            if found:
                v1[key] = value
        return v1

    def _value_for(self, key: str, v2: Mapping[str, Any], extra: Mapping[str, Any], *, exact: bool) -> tuple[bool, Any]:
        if key in extra:
            return True, extra[key]
        spec_field = self.field_for(key)
        if spec_field is not None:
            found, value = _get_path(v2, spec_field.v2_path)
            if found and (exact or value is not None or key not in self.optional):
                return True, spec_field.to_v1(value)
        if exact:
            return False, None
        if key in self.defaults:
            return True, self.defaults[key](v2)
        if key in self.optional:
            return False, None
        return True, None


def strip_prefixes(state_dict: Mapping[str, Any], prefixes: list[str] | tuple[str, ...]) -> Mapping[str, Any]:
    """A copy of ``state_dict`` without the wrapper prefixes (also in ``_metadata``); tensors shared."""
    if not prefixes:
        return state_dict
    result = OrderedDict(state_dict)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        result._metadata = copy.copy(metadata)  # type: ignore[attr-defined]  # state_dict() metadata: an attribute torch sets on OrderedDicts
    for prefix in prefixes:
        consume_prefix_in_state_dict_if_present(result, prefix)
    return result


def add_prefixes(state_dict: Mapping[str, Any], prefixes: list[str] | tuple[str, ...]) -> Mapping[str, Any]:
    """Inverse of :func:`strip_prefixes`: the wrapped model's keys (and ``_metadata``) again."""
    if not prefixes:
        return state_dict
    prefix = "".join(prefixes)
    result = OrderedDict((prefix + key, value) for key, value in state_dict.items())
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        result._metadata = OrderedDict(  # type: ignore[attr-defined]  # state_dict() metadata: an attribute torch sets on OrderedDicts
            ((prefix + key) if key else prefix[:-1], value) for key, value in metadata.items()
        )
    return result


def _set_path(sections: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    if len(path) == 1:
        sections[path[0]] = value
        return
    node = sections.setdefault(path[0], {})
    for key in path[1:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _get_path(obj: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False, None
        node = node[key]
    return True, node
