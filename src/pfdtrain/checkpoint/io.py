"""save / load for v2 checkpoints: plain data only, atomic writes, ``weights_only=True`` always.

Loading never executes code from the file: anything that is not plain data is refused by
torch's weights-only unpickler and reported as a :class:`CheckpointFormatError` that names the
offending globals. Corrupt files (empty, truncated, text, Git LFS pointers) get a message that
says what looks wrong instead of a raw unpickling traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pickle
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import torch

from pfdtrain.checkpoint.atomic import atomic_write
from pfdtrain.checkpoint.diagnose import (
    LFS_POINTER,
    ZIP_MAGIC,
    unreadable_file_error,
    unsafe_file_error,
    unsafe_globals,
)
from pfdtrain.checkpoint.errors import CheckpointFormatError
from pfdtrain.checkpoint.format import FORMAT_NAME, check_format, complete
from pfdtrain.checkpoint.plain_data import validate_plain_data
from pfdtrain.checkpoint.regular_file import not_regular_error
from pfdtrain.errors import describe

MapLocation = str | torch.device | Callable[..., Any] | Mapping[str, str] | None


def save(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Validate, complete and atomically write a v2 checkpoint; return the target path.

    The plain-data check runs first, so a bad value fails before any file is touched. Missing
    header keys (``format``, ``format_version``, ``created``, ``versions``) and missing sections
    are filled in a new top-level dict: the caller's dict is never modified. An existing file
    at ``path`` is replaced only once the new one is completely on disk.
    """
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f"save() expects a checkpoint dict (see new_checkpoint()), got {describe(checkpoint)}")
    validate_plain_data(dict(checkpoint))
    if checkpoint.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise CheckpointFormatError(
            f"checkpoint['format'] is {checkpoint['format']!r}; a v2 checkpoint has {FORMAT_NAME!r} "
            "(build it with new_checkpoint())"
        )
    payload = complete(checkpoint)
    validate_plain_data({k: v for k, v in payload.items() if k not in checkpoint})  # what we added
    return atomic_write(path, lambda handle: torch.save(payload, handle))


def load(
    path: str | os.PathLike[str],
    map_location: MapLocation = "cpu",
    *,
    mmap: bool = False,
) -> dict[str, Any]:
    """Load a v2 checkpoint with ``weights_only=True``; missing sections come back as defaults.

    ``map_location`` is handed to ``torch.load`` (``"cpu"`` by default so that a checkpoint
    written on a GPU machine opens anywhere; pass ``"cuda"``, a device, a dict or a function to
    place tensors). ``mmap=True`` maps tensor storages instead of reading them (v2 files are
    always zip archives; other files are read normally so that they get the right error).

    Raises FileNotFoundError for a missing file, :class:`CheckpointFormatError` for anything
    that is not a readable, safe v2 checkpoint and :class:`CheckpointVersionError` for a newer
    major format version. Errors of ``map_location`` itself (e.g. ``"cuda"`` on a machine
    without CUDA) propagate unchanged.
    """
    file = Path(path)
    head = _read_head(file)
    is_zip = head.startswith(ZIP_MAGIC)
    location = _checked_map_location(map_location)
    try:
        # Any: torch's annotation lists dict, not Mapping, and (storage, str) functions only
        obj = torch.load(file, map_location=cast(Any, location), weights_only=True, mmap=bool(mmap) and is_zip)
    except _MapLocationFailure as failure:
        raise failure.error from None  # the user's own error, as their function raised it
    except (MemoryError, PermissionError, FileNotFoundError):
        raise
    except Exception as exc:
        if "Attempting to deserialize object on" in str(exc):  # device not available here
            raise
        names = unsafe_globals(file, str(exc), is_zip)
        if names or (isinstance(exc, pickle.UnpicklingError) and "GLOBAL" in str(exc)):
            # from None: torch's message advises weights_only=False, exactly what not to do.
            raise unsafe_file_error(file, names) from None
        raise unreadable_file_error(file, head, exc) from exc
    check_format(obj, source=str(file))
    return complete(obj, stamp=False)


class _MapLocationFailure(Exception):
    """Carries an exception raised by a user's map_location function through torch.load."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _checked_map_location(map_location: MapLocation) -> MapLocation:
    """Fail on a bad device name before reading, and keep a function's own errors recognisable."""
    if isinstance(map_location, str):
        torch.device(map_location)
    elif isinstance(map_location, Mapping):
        for device in map_location.values():
            torch.device(device)
    elif callable(map_location) and not isinstance(map_location, torch.device):
        user_function = map_location

        def guarded(storage: Any, location: str) -> Any:
            try:
                return user_function(storage, location)
            except Exception as error:
                raise _MapLocationFailure(error) from error

        return guarded
    return map_location


def _read_head(file: Path, size: int = 64) -> bytes:
    """First bytes of the file; raises early for missing, empty, directory and LFS-pointer files, and
    for pipes and devices (opening a named pipe would wait for a writer forever)."""
    with contextlib.suppress(OSError):
        mode = os.stat(file).st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            raise not_regular_error(file, mode)
    try:
        with open(file, "rb") as handle:
            head = handle.read(size)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "No checkpoint file at this path", str(file)) from None
    except IsADirectoryError:
        raise CheckpointFormatError(f"{file} is a directory, not a checkpoint file") from None
    if not head:
        raise CheckpointFormatError(
            f"{file} is empty (0 bytes): not a checkpoint. It was probably written by a save that "
            "was interrupted or a copy that failed; use an earlier checkpoint."
        )
    if head.startswith(LFS_POINTER):
        raise CheckpointFormatError(
            f"{file} is a Git LFS pointer (a small text file), not the checkpoint itself. "
            "Fetch the real file with: git lfs pull"
        )
    return head
