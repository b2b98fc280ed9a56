"""Read a checkpoint of any supported format as v2: v2 files as they are, v1 files upgraded in memory.

This is what lets ``Trainer.fit(ckpt_path="old.pth")`` resume from a legacy file: the file on
disk is not touched (``migrate-checkpoint`` converts it for good).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from pfdtrain.checkpoint.errors import UnknownLayoutError
from pfdtrain.checkpoint.format import check_format, complete
from pfdtrain.errors import describe
from pfdtrain.migration.layouts import V2, Detection, detect
from pfdtrain.migration.safe_load import AllowedGlobal, LoadedFile, safe_load
from pfdtrain.migration.source_check import SourceCheck
from pfdtrain.migration.upgraders import upgrade


@dataclass
class ReadResult:
    """A file read as v2, with the detected layout and the raw (plain-data) object it came from."""

    checkpoint: dict[str, Any]
    detection: Detection
    loaded: LoadedFile


def read_as_v2(
    path: str | os.PathLike[str],
    map_location: Any = "cpu",
    *,
    allow_globals: Sequence[AllowedGlobal] = (),
    trust_unsafe: bool = False,
    mmap: bool = False,
    checked: SourceCheck | None = None,
) -> ReadResult:
    """Load safely, detect the layout and upgrade; see :func:`load_any` for the errors raised.

    ``checked``: the file's :func:`~pfdtrain.migration.source_check.check_source` result, when the
    caller already has it (memory-mapped loading needs one; it is made here otherwise).
    """
    loaded = safe_load(
        path, map_location, mmap=mmap, allow_globals=allow_globals, trust_unsafe=trust_unsafe, checked=checked
    )
    detection = detect_or_raise(loaded)
    if detection.layout == V2:
        check_format(loaded.obj, source=str(loaded.info.path))
        checkpoint = complete(upgrade(loaded.obj, V2), stamp=False)
    else:
        checkpoint = upgrade(
            loaded.obj, detection.layout, conversions=loaded.conversions,
            serialization=loaded.info.serialization,
        )
    return ReadResult(checkpoint, detection, loaded)


def detect_or_raise(loaded: LoadedFile) -> Detection:
    """The layout of a loaded file, or :class:`UnknownLayoutError` saying what the file holds."""
    detection = detect(loaded.obj, loaded.info.serialization)
    if detection is not None:
        return detection
    obj = loaded.obj
    if isinstance(obj, Mapping) and obj:
        keys = ", ".join(map(repr, list(obj)[:8])) + (", ..." if len(obj) > 8 else "")
        what = f"a dict without model weights under a known key (top-level keys: {keys})"
    elif isinstance(obj, torch.Tensor):
        what = f"a single {describe(obj)}, not a checkpoint dict"
    else:
        what = f"a {describe(obj)}, not a checkpoint dict"
    raise UnknownLayoutError(f"{loaded.info.path} is not a checkpoint of any known layout: it holds {what}.")


def load_any(
    path: str | os.PathLike[str],
    map_location: Any = "cpu",
    *,
    allow_globals: Sequence[AllowedGlobal] = (),
    trust_unsafe: bool = False,
    mmap: bool = False,
) -> dict[str, Any]:
    """A v2 checkpoint dict for a v2 file or any legacy (v1) layout, upgraded in memory.

    Loading is weights-only with the harmless legacy aliases (argparse, pathlib, NumPy scalars);
    ``allow_globals`` admits more (names, objects or ``(object, "module.Name")`` pairs) and
    ``trust_unsafe=True`` loads with full pickle after a loud warning. Raises
    :class:`~pfdtrain.checkpoint.errors.UnsafeCheckpointError` (nothing executed),
    :class:`~pfdtrain.checkpoint.errors.CorruptCheckpointError`,
    :class:`~pfdtrain.checkpoint.errors.UnknownLayoutError`,
    :class:`~pfdtrain.checkpoint.errors.CheckpointVersionError` or FileNotFoundError.
    """
    return read_as_v2(
        path, map_location, allow_globals=allow_globals, trust_unsafe=trust_unsafe, mmap=mmap
    ).checkpoint
