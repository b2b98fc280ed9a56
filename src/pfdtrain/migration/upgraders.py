"""The registry of upgraders: small pure functions ``(layout, version) -> next version``, chained.

A legacy file starts at version ``"1"`` of its layout; its upgrader produces v2
(:data:`~pfdtrain.checkpoint.format.FORMAT_VERSION`). A future v2.1 adds one ``("v2", "2.0")``
step and every older file reaches it through the chain. Downgraders go the other way, from v2
to a chosen legacy layout, for consumers that still read the old format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from packaging.version import Version

from pfdtrain.checkpoint.errors import UnknownLayoutError
from pfdtrain.checkpoint.format import FORMAT_VERSION, new_checkpoint
from pfdtrain.checkpoint.plain_data import validate_plain_data
from pfdtrain.migration.layouts import ROOT, V2
from pfdtrain.migration.legacy_values import restore_legacy_values
from pfdtrain.migration.v1_layouts import SPECS
from pfdtrain.migration.v1_mapping import MIGRATED_FROM, LayoutSpec

LEGACY_VERSION = "1"


@dataclass(frozen=True)
class Step:
    """One registered upgrader: ``fn`` turns ``layout`` at ``from_version`` into v2 at ``to_version``."""

    layout: str
    from_version: str
    to_version: str
    fn: Callable[[Any], dict[str, Any]]


UPGRADERS: dict[tuple[str, str], Step] = {}
DOWNGRADERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {}
DESCRIBERS: dict[str, Callable[[Any], list[str]]] = {}


def register(
    layout: str, from_version: str = LEGACY_VERSION, to_version: str = FORMAT_VERSION
) -> Callable[[Callable[[Any], dict[str, Any]]], Callable[[Any], dict[str, Any]]]:
    """Decorator: add ``fn`` as the upgrader of ``layout`` at ``from_version``."""

    def add(fn: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        key = (layout, from_version)
        if key in UPGRADERS:
            raise ValueError(f"an upgrader for {layout} version {from_version} is already registered")
        UPGRADERS[key] = Step(layout, from_version, to_version, fn)
        return fn

    return add


def register_layout(spec: LayoutSpec) -> LayoutSpec:
    """Register a table-driven legacy layout: its upgrader, downgrader and change description."""
    register(spec.name)(spec.upgrade)
    DOWNGRADERS[spec.name] = spec.downgrade
    DESCRIBERS[spec.name] = spec.describe
    return spec


for _spec in SPECS:
    register_layout(_spec)


@register("whole_module")
def whole_module_to_v2(module: torch.nn.Module) -> dict[str, Any]:
    """A pickled ``nn.Module`` (only ever loaded with ``--trust-unsafe``): keep its state_dict."""
    cls = type(module)
    return new_checkpoint(
        model={"state_dict": module.state_dict(), "architecture": f"{cls.__module__}.{cls.__qualname__}"},
        extra={MIGRATED_FROM: {"format": "v1", "layout": "whole_module", "keys": None,
                               "weights_key": ROOT, "weights_key_prefixes": []}},
    )


DESCRIBERS["whole_module"] = lambda module: [
    f"pickled {type(module).__qualname__} -> model.state_dict ({len(module.state_dict())} entries) "
    "and model.architecture; the class itself is not kept"
]


def upgrade(
    obj: Any,
    layout: str,
    *,
    conversions: Sequence[Mapping[str, Any]] = (),
    serialization: str | None = None,
) -> dict[str, Any]:
    """Run the upgrader chain from ``layout`` to the current v2 version; the result is plain data.

    ``conversions`` (from :func:`~pfdtrain.migration.legacy_values.to_plain_data`) and
    ``serialization`` are recorded in ``extra.migrated_from`` so that a downgrade can restore
    torch dtypes and the report can say what was changed.
    """
    version = str(obj.get("format_version")) if layout == V2 else LEGACY_VERSION
    current = layout
    while Version(version) < Version(FORMAT_VERSION):
        step = UPGRADERS.get((current, version))
        if step is None:
            raise UnknownLayoutError(f"no upgrader registered for layout {current!r} at version {version}")
        obj = step.fn(obj)
        version = step.to_version
        if Version(version).major >= Version(FORMAT_VERSION).major:
            current = V2  # from here on the layout is v2's own
    record = (obj.get("extra") or {}).get(MIGRATED_FROM)
    if layout != V2 and isinstance(record, dict):
        record["conversions"] = [dict(c) for c in conversions]
        if serialization is not None:
            record["serialization"] = serialization
    validate_plain_data(obj)
    return obj


def downgrade(v2: Mapping[str, Any], layout: str) -> Any:
    """The v1 object ``layout``'s legacy writer would have saved for this v2 checkpoint.

    A file migrated from ``layout`` comes back with its original keys, order and tensors; torch
    dtypes (quantized models) are restored, paths and argparse values stay plain strings/dicts
    so that legacy readers on torch >= 2.6 (weights_only by default) can open the result.
    """
    down = DOWNGRADERS.get(layout)
    if down is None:
        raise ValueError(f"cannot downgrade to {layout!r}; layouts: {', '.join(sorted(DOWNGRADERS))}")
    v1 = down(v2)
    record = (v2.get("extra") or {}).get(MIGRATED_FROM) or {}
    if record.get("layout") == layout and record.get("conversions"):
        v1 = restore_legacy_values(v1, record["conversions"])
    return v1


def describe_changes(obj: Any, layout: str, conversions: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    """Human-readable lines: where each v1 key goes in v2 and which values were converted."""
    describer = DESCRIBERS.get(layout)
    lines = describer(obj) if describer else []
    for conversion in conversions:
        where = ".".join(map(str, conversion.get("path", []))) or "<root>"
        lines.append(f"{where}: {conversion.get('from')} -> plain data")
    return lines


def legacy_layouts() -> list[str]:
    """Layouts that can be upgraded from (and, except ``whole_module``, downgraded to)."""
    return sorted({layout for layout, version in UPGRADERS if version == LEGACY_VERSION})
