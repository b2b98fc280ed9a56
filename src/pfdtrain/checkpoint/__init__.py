"""The v2 checkpoint format: plain data only, safe to load, written atomically.

A v2 checkpoint is a nested dict of tensors and primitives that
``torch.load(path, weights_only=True)`` opens without any allow-list, so loading one never runs
code from the file. See :func:`new_checkpoint` for the layout. Legacy (v1) files are refused
with a pointer to ``migrate-checkpoint``.
"""

from __future__ import annotations

from pfdtrain.checkpoint.errors import (
    CheckpointError,
    CheckpointFormatError,
    CheckpointMismatchError,
    CheckpointVersionError,
)
from pfdtrain.checkpoint.plain_data import validate_plain_data

__all__ = [
    "validate_plain_data",
    "CheckpointError",
    "CheckpointFormatError",
    "CheckpointVersionError",
    "CheckpointMismatchError",
]
