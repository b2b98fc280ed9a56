"""Open a checkpoint only if it is a regular file: a named pipe would block forever, a device never ends.

``os.stat`` decides before anything is opened; the open itself uses ``O_NONBLOCK`` (a FIFO swapped in
after the check opens at once instead of waiting for a writer) and the descriptor is checked again
with ``fstat``, so nothing but a regular file is ever read.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator

from pfdtrain.checkpoint.errors import NotRegularFileError

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def read_at(fd: int, size: int, offset: int) -> bytes:
    """Up to ``size`` bytes at ``offset`` (``os.pread``; where it does not exist, Windows, a seek and
    a read, which moves the descriptor's position)."""
    pread = getattr(os, "pread", None)
    if pread is not None:
        return bytes(pread(fd, size, offset))
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def non_regular_kind(mode: int) -> str | None:
    """What a file of this ``st_mode`` is when it is not a regular file (``"a named pipe (FIFO)"``...)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def not_regular_error(path: str | os.PathLike[str], mode: int) -> NotRegularFileError:
    """The error for a path that is not a regular file, with the remedy for each kind."""
    kind = non_regular_kind(mode) or "not a regular file"
    name = os.fspath(path)
    if stat.S_ISFIFO(mode) and name.startswith(("/dev/fd/", "/proc/self/fd/")):
        advice = ("a pipe such as <(cat FILE) can be read only once and not memory-mapped: save it to a "
                  "file first (cat ... > FILE.pth) and give that file")
    elif stat.S_ISFIFO(mode):
        advice = "reading it would wait for a writer; copy the checkpoint to a regular file and give that file"
    elif stat.S_ISDIR(mode):
        advice = "give a checkpoint file, or the folder itself to search it"
    else:
        advice = "give the checkpoint file itself"
    return NotRegularFileError(f"{name} is {kind}, not a checkpoint file; it was skipped without being opened: "
                               f"{advice}.")


def check_regular(path: str | os.PathLike[str]) -> os.stat_result:
    """``os.stat(path)`` if it is a regular file; :class:`NotRegularFileError` otherwise.

    FileNotFoundError for a missing path; a broken or looping symbolic link is reported as such.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise NotRegularFileError(
                f"{os.fspath(path)} is a symbolic link to a missing file; it was skipped."
            ) from None
        raise FileNotFoundError(errno.ENOENT, "No checkpoint file at this path", os.fspath(path)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFileError(
                f"{os.fspath(path)} is a symbolic link that loops back on itself; it was skipped."
            ) from None
        raise
    if not stat.S_ISREG(info.st_mode):
        raise not_regular_error(path, info.st_mode)
    return info


def open_regular(path: str | os.PathLike[str]) -> int:
    """A read-only descriptor of ``path``, which must be a regular file (checked before and after opening)."""
    check_regular(path)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular_error(path, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def torch_readable_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """``path`` as a name ``torch.load`` can open, also memory-mapped.

    torch passes file names to C++ as UTF-8, so a name holding bytes that are not UTF-8 (Python's
    surrogate escapes, e.g. ``\\udcff``) fails there. Such a file is opened here and handed over as
    ``/proc/self/fd/N`` (``/dev/fd/N`` elsewhere), which names the same file in plain ASCII.
    """
    name = os.fspath(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        yield name
        return
    fd = open_regular(name)
    try:
        folder = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
        yield f"{folder}/{fd}"
    finally:
        os.close(fd)
