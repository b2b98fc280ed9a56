"""The v2 checkpoint format that the Trainer writes and reads: plain data, safe to load, atomic.

A v2 checkpoint is a nested dict of tensors and primitives that
``torch.load(path, weights_only=True)`` opens without any allow-list, so loading one never runs
code from the file. See :func:`new_checkpoint` for the layout. :func:`load` refuses legacy (v1)
files with a pointer to ``migrate-checkpoint``. Reading and upgrading legacy files is the other
half, kept in :mod:`pfdtrain.migration`; :func:`load_any` (v1 or v2, upgraded in memory) is
re-exported here from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pfdtrain._lazy import lazy_exports
from pfdtrain.checkpoint.atomic import atomic_write
from pfdtrain.checkpoint.errors import (
    CheckpointError,
    CheckpointFormatError,
    CheckpointMismatchError,
    CheckpointVersionError,
    CorruptCheckpointError,
    UnknownLayoutError,
    UnsafeCheckpointError,
)
from pfdtrain.checkpoint.format import FORMAT_NAME, FORMAT_VERSION, check_format, is_v2, new_checkpoint
from pfdtrain.checkpoint.io import load, save
from pfdtrain.checkpoint.model_state import load_model_state
from pfdtrain.checkpoint.plain_data import validate_plain_data
from pfdtrain.checkpoint.random_state import capture_random_state, restore_random_state

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.migration.any_format import load_any

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "CheckpointError",
    "CheckpointFormatError",
    "CheckpointMismatchError",
    "CheckpointVersionError",
    "CorruptCheckpointError",
    "UnknownLayoutError",
    "UnsafeCheckpointError",
    "atomic_write",
    "capture_random_state",
    "check_format",
    "is_v2",
    "load",
    "load_any",
    "load_model_state",
    "new_checkpoint",
    "restore_random_state",
    "save",
    "validate_plain_data",
]

# load_any lives with the migration machinery, which imports this package: resolved on first use.
__getattr__, __dir__ = lazy_exports(__name__, globals(), {"load_any": "pfdtrain.migration.any_format"}, __all__)
