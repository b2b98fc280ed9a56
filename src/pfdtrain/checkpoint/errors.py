"""Checkpoint errors: one base class so callers can catch every checkpoint problem at once.

Each error says what was found and what to do; none of them ever wraps a raw unpickling
traceback as its main message.
"""

from __future__ import annotations

from collections.abc import Sequence

from pfdtrain.errors import PfdtrainError


class CheckpointError(PfdtrainError):
    """Base class for every error raised by :mod:`pfdtrain.checkpoint`."""


class CheckpointFormatError(CheckpointError, ValueError):
    """The object or file is not a (readable, safe) pfdtrain v2 checkpoint.

    ``unsafe_globals`` lists the Python globals that made a file unsafe to load, when known.
    """

    kind = "format"

    def __init__(self, message: str, *, unsafe_globals: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.unsafe_globals: tuple[str, ...] = tuple(unsafe_globals)


class UnsafeCheckpointError(CheckpointFormatError):
    """Refused before unpickling: the file names Python globals that are not plain data.

    Nothing from the file was executed. ``unsafe_globals`` lists the names
    (``--allow-global NAME`` admits one, ``--trust-unsafe`` a whole file the user vouches for).
    """

    kind = "unsafe"


class CorruptCheckpointError(CheckpointFormatError):
    """The file cannot be a checkpoint: ``kind`` is ``empty``, ``truncated``, ``lfs-pointer`` or
    ``not-a-checkpoint``."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class DamagedCheckpointError(CorruptCheckpointError):
    """The file's structure or content does not add up: a record whose size, name, header or CRC-32
    disagrees with what the file claims, or a pickle no checkpoint writer produces. ``kind`` is
    ``damaged``, ``truncated`` or ``malformed`` (nesting, cycles or blow-ups no checkpoint has)."""

    def __init__(self, message: str, *, kind: str = "damaged") -> None:
        super().__init__(message, kind=kind)


class NotRegularFileError(CheckpointFormatError):
    """The path is a named pipe, folder, device, socket or broken link: never opened as a checkpoint."""

    kind = "not-a-file"


class UnknownLayoutError(CheckpointFormatError):
    """A readable torch file whose content matches no known checkpoint layout (v2 or legacy)."""

    kind = "unknown-layout"


class CheckpointVersionError(CheckpointError, ValueError):
    """The checkpoint's ``format_version`` has a major version this code cannot read."""

    def __init__(self, message: str, *, found: str, supported: str) -> None:
        super().__init__(message)
        self.found = found
        self.supported = supported


class CheckpointMismatchError(CheckpointError, RuntimeError):
    """A state dict does not fit the model (subclasses RuntimeError like ``load_state_dict``).

    The offending keys are kept as attributes so that callers can act on them.
    """

    def __init__(
        self,
        message: str,
        *,
        missing: Sequence[str] = (),
        unexpected: Sequence[str] = (),
        shape_mismatches: Sequence[tuple[str, tuple[int, ...], tuple[int, ...]]] = (),
    ) -> None:
        super().__init__(message)
        self.missing: tuple[str, ...] = tuple(missing)
        self.unexpected: tuple[str, ...] = tuple(unexpected)
        self.shape_mismatches = tuple(shape_mismatches)
