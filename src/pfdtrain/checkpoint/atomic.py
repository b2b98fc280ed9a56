"""Atomic file replacement: after a crash the target is the old file or the new one, never half.

The data goes to a temporary file in the target's own folder (``os.replace`` is only atomic
within one filesystem), is flushed and fsynced, then renamed over the target; the folder is
fsynced so that the rename itself survives a power loss. Temporary names look like
``.<name>.tmp-<random>``: hidden, and never matching a ``*.pth`` / ``*.pt`` glob.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_INFIX = ".tmp-"
_TEMP_NAME = re.compile(r"^\..+\.tmp-[A-Za-z0-9_]+$")


def temp_prefix(target: str | os.PathLike[str]) -> str:
    """Prefix of the temporary files written for ``target`` (e.g. ``.best.pth.tmp-``)."""
    return f".{Path(target).name}{TEMP_INFIX}"


def is_temp_file(path: str | os.PathLike[str]) -> bool:
    """True for a leftover temporary file of :func:`atomic_write` (a writer killed mid-save)."""
    return bool(_TEMP_NAME.match(Path(path).name))


def atomic_write(
    path: str | os.PathLike[str],
    write_fn: Callable[[BinaryIO], None],
    *,
    check: Callable[[Path], None] | None = None,
    before_replace: Callable[[Path], None] | None = None,
) -> Path:
    """Write a file through ``write_fn(file)`` so that ``path`` is replaced all at once.

    Parent folders are created. On any error (including KeyboardInterrupt) the temporary file
    is removed and the target is left untouched. The new file gets the permissions of the file
    it replaces, or the usual ``0o666 & ~umask`` for a new file (``mkstemp`` would leave 0o600).
    ``check(temp_path)`` reads the complete new file while it is being fsynced (the two overlap:
    one waits for the disk, the other reads the page cache). ``before_replace(temp_path)`` runs
    after both, before the new file takes the target's name (to back up the old one, say). If
    either raises, nothing is replaced. Returns the target path.
    """
    target = Path(path)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    mode = _target_mode(target)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target), dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            write_fn(handle)
            handle.flush()
            _fsync_during(handle.fileno(), check, Path(tmp_name))
        with contextlib.suppress(OSError):  # e.g. filesystems without chmod support
            os.chmod(tmp_name, mode)
        if before_replace is not None:
            before_replace(Path(tmp_name))
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_directory(folder)
    return target


def _fsync_during(fd: int, check: Callable[[Path], None] | None, path: Path) -> None:
    """``os.fsync(fd)``, with ``check(path)`` running meanwhile in this thread."""
    if check is None:
        os.fsync(fd)
        return
    failure: list[BaseException] = []

    def sync() -> None:
        try:
            os.fsync(fd)
        except BaseException as exc:  # re-raised below, in the caller's thread
            failure.append(exc)

    syncer = threading.Thread(target=sync, name="fsync")
    syncer.start()
    try:
        check(path)
    finally:
        syncer.join()
    if failure:
        raise failure[0]


def fsync_directory(folder: str | os.PathLike[str]) -> None:
    """Persist a rename in ``folder``; a no-op where directories cannot be opened (Windows)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _target_mode(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_current_umask()


def _current_umask() -> int:
    """Read the umask without changing it (``os.umask`` would race with other threads)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
