"""The v2 layout: constants, defaults for every section, and the format/version check.

A v2 checkpoint is a plain nested dict that ``torch.load(weights_only=True)`` opens with no
allow-list, so loading one never runs code. The header (``format``, ``format_version``) lets a
reader tell a v2 file from the many legacy layouts and refuse files from a newer major version
instead of misreading them.
"""

from __future__ import annotations

import platform
import shlex
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import torch
from packaging.version import InvalidVersion, Version

from pfdtrain._version import __version__
from pfdtrain.checkpoint.errors import CheckpointFormatError, CheckpointVersionError
from pfdtrain.errors import describe

FORMAT_NAME = "pfdtrain.checkpoint"
FORMAT_VERSION = "2.0"

#: Set by the code, never by callers: what the file is and who wrote it.
HEADER_KEYS: tuple[str, ...] = ("format", "format_version", "created", "versions")
#: Everything a training run needs to resume, in file order.
SECTION_KEYS: tuple[str, ...] = (
    "model",
    "training",
    "optimizer",
    "scheduler",
    "scaler",
    "ema",
    "callbacks",
    "config",
    "random_state",
    "extra",
)
TOP_LEVEL_KEYS: tuple[str, ...] = HEADER_KEYS + SECTION_KEYS

_DICT_SECTIONS = frozenset({"model", "training", "callbacks", "config", "extra"})
_OPTIONAL_SECTIONS = frozenset({"optimizer", "scheduler", "scaler", "ema", "random_state"})
#: Sections whose defaults are merged key by key with what the caller gives.
_MERGED_SECTIONS = frozenset({"model", "training"})
_LEGACY_MARKERS = frozenset(
    {"model_state_dict", "state_dict", "optimizer_state_dict", "epoch", "model", "best_val_acc"}
)


def utc_timestamp() -> str:
    """Current time as ISO-8601 UTC with a ``Z`` suffix, e.g. ``2026-11-25T17:30:00Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def runtime_versions() -> dict[str, str]:
    """Versions that wrote the file (plain ``str``: ``torch.__version__`` is a str subclass)."""
    return {
        "pfdtrain": str(__version__),
        "torch": str(torch.__version__),
        "python": platform.python_version(),
    }


def default_section(name: str) -> Any:
    """A fresh default for one section (new objects on every call, safe to mutate)."""
    if name == "model":
        return {"state_dict": {}, "architecture": None, "config": {}}
    if name == "training":
        return {"epoch": 0, "global_step": 0, "best_metric": None, "history": {}}
    if name in _DICT_SECTIONS:
        return {}
    if name in _OPTIONAL_SECTIONS:
        return None
    raise KeyError(name)


def new_checkpoint(**sections: Any) -> dict[str, Any]:
    """Build a complete v2 checkpoint: header filled, every section present, in layout order.

    ``model`` and ``training`` are merged with their defaults key by key (so
    ``training={"epoch": 3}`` still gets ``global_step``, ``best_metric`` and ``history``);
    extra keys inside them are kept. Unknown section names raise TypeError, because a typo
    (``optimiser=``) would otherwise silently drop state from every saved file.
    """
    unknown = [name for name in sections if name not in TOP_LEVEL_KEYS]
    if unknown:
        raise TypeError(
            f"new_checkpoint() got unknown section(s) {', '.join(map(repr, unknown))}; "
            f"valid sections: {', '.join(TOP_LEVEL_KEYS)}. Put anything else under extra={{...}}."
        )
    if sections.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise ValueError(f"format must be {FORMAT_NAME!r}, got {sections['format']!r}")
    for name, value in sections.items():
        if name in _DICT_SECTIONS and not isinstance(value, Mapping):
            raise TypeError(f"section {name!r} must be a dict, got {describe(value)}")
        if name in _OPTIONAL_SECTIONS and value is not None and not isinstance(value, Mapping):
            raise TypeError(f"section {name!r} must be a dict or None, got {describe(value)}")
    return complete(sections)


def complete(checkpoint: Mapping[str, Any], *, stamp: bool = True) -> dict[str, Any]:
    """A new top-level dict with missing header keys and sections filled in.

    Keys are ordered as in the layout, unknown top-level keys (from a newer minor version)
    are kept at the end. Nested values are shared, not copied: the caller's objects are
    never modified. ``stamp=False`` (for files read back) leaves a missing ``created`` /
    ``versions`` as None rather than claiming the current time and versions.
    """
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": None,
        "versions": None,
    }
    result: dict[str, Any] = {}
    for key in TOP_LEVEL_KEYS:
        if key in checkpoint:
            value = checkpoint[key]
            if key in _MERGED_SECTIONS and isinstance(value, Mapping):
                value = {**default_section(key), **value}
            result[key] = value
        elif key in header:
            result[key] = header[key]
        else:
            result[key] = default_section(key)
    if stamp and result["created"] is None:
        result["created"] = utc_timestamp()
    if stamp and result["versions"] is None:
        result["versions"] = runtime_versions()
    for key, value in checkpoint.items():
        if key not in result:
            result[key] = value
    return result


def is_v2(obj: Any) -> bool:
    """True for a dict carrying the pfdtrain format marker with a readable 2.x version.

    Never raises; use :func:`check_format` to learn why an object is not readable.
    """
    if not isinstance(obj, Mapping) or obj.get("format") != FORMAT_NAME:
        return False
    raw = obj.get("format_version")
    try:
        return isinstance(raw, str) and Version(raw).major == Version(FORMAT_VERSION).major
    except InvalidVersion:
        return False


def check_format(obj: Any, source: str = "<memory>") -> None:
    """Raise unless ``obj`` is a v2 checkpoint this code can read.

    A newer minor version (2.1) is accepted: minor versions only add keys. A newer major
    version raises :class:`CheckpointVersionError`; anything without the v2 marker (legacy
    files, bare state dicts) raises :class:`CheckpointFormatError` pointing at
    ``migrate-checkpoint``.
    """
    if not isinstance(obj, Mapping) or obj.get("format") != FORMAT_NAME:
        raise CheckpointFormatError(
            f"{source} is not a pfdtrain v2 checkpoint: {_describe_foreign(obj)}. "
            f"Legacy (v1) checkpoints can be converted with: {migrate_command(source)}"
        )
    raw = obj.get("format_version")
    if not isinstance(raw, str):
        raise CheckpointFormatError(
            f"{source}: format_version must be a version string like {FORMAT_VERSION!r}, got {raw!r}"
        )
    try:
        found = Version(raw)
    except InvalidVersion:
        raise CheckpointFormatError(
            f"{source}: format_version {raw!r} is not a valid version string (expected e.g. {FORMAT_VERSION!r})"
        ) from None
    supported = Version(FORMAT_VERSION)
    if found.major > supported.major:
        writer = _writer(obj)
        raise CheckpointVersionError(
            f"{source} uses checkpoint format {raw}{writer}, but this pfdtrain ({__version__}) "
            f"reads format {FORMAT_VERSION} (major version {supported.major}) only. "
            "Upgrade pfdtrain to load it: pip install -U pfdtrain",
            found=raw,
            supported=FORMAT_VERSION,
        )
    if found.major < supported.major:
        raise CheckpointVersionError(
            f"{source} uses the old checkpoint format {raw}; this pfdtrain reads format "
            f"{FORMAT_VERSION}. Convert it with: {migrate_command(source)}",
            found=raw,
            supported=FORMAT_VERSION,
        )
    for name in SECTION_KEYS:
        if name not in obj:
            continue
        value = obj[name]
        if name in _DICT_SECTIONS and not isinstance(value, Mapping):
            raise CheckpointFormatError(f"{source}: section {name!r} must be a dict, found {describe(value)}")
        if name in _OPTIONAL_SECTIONS and value is not None and not isinstance(value, Mapping):
            raise CheckpointFormatError(
                f"{source}: section {name!r} must be a dict or None, found {describe(value)}"
            )


def migrate_command(source: str) -> str:
    """The shell command that converts a legacy file (the upgrader ships as `migrate-checkpoint`)."""
    target = "PATH" if source.startswith("<") else shlex.quote(source)
    return f"migrate-checkpoint {target}"


def _writer(obj: Mapping[str, Any]) -> str:
    versions = obj.get("versions")
    if isinstance(versions, Mapping) and isinstance(versions.get("pfdtrain"), str):
        return f" (written by pfdtrain {versions['pfdtrain']})"
    return ""


def _describe_foreign(obj: Any) -> str:
    """Say what the object looks like, so the user knows which conversion applies."""
    if not isinstance(obj, Mapping):
        return f"it holds a {describe(obj)}, not a dict"
    if not obj:
        return "it holds an empty dict"
    keys = list(obj)
    shown = ", ".join(map(repr, keys[:8])) + (", ..." if len(keys) > 8 else "")
    if "format" in obj:
        return f"its 'format' is {obj['format']!r}, expected {FORMAT_NAME!r}"
    if all(isinstance(v, torch.Tensor) for v in obj.values()):
        return f"it looks like a bare model state_dict ({len(keys)} tensors: {shown})"
    if _LEGACY_MARKERS.intersection(map(str, keys)):
        return f"it looks like a legacy v1 checkpoint (top-level keys: {shown})"
    return f"it is a dict without the v2 header (top-level keys: {shown})"
