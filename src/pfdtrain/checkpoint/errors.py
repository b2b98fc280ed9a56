"""Checkpoint errors: one base class so callers can catch every checkpoint problem at once.

Each error says what was found and what to do; none of them ever wraps a raw unpickling
traceback as its main message.
"""

from __future__ import annotations

from typing import Sequence

from pfdtrain.errors import PfdtrainError


class CheckpointError(PfdtrainError):
    """Base class for every error raised by :mod:`pfdtrain.checkpoint`."""


class CheckpointFormatError(CheckpointError, ValueError):
    """The object or file is not a (readable, safe) pfdtrain v2 checkpoint.

    ``unsafe_globals`` lists the Python globals that made a file unsafe to load, when known.
    """

    def __init__(self, message: str, *, unsafe_globals: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.unsafe_globals: tuple[str, ...] = tuple(unsafe_globals)


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
