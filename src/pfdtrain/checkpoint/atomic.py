"""Atomic file replacement: after a crash the target is the old file or the new one, never half.

The data goes to a temporary file in the target's own folder (``os.replace`` is only atomic
within one filesystem), is flushed and fsynced, then renamed over the target; the folder is
fsynced so that the rename itself survives a power loss.

A writer killed mid-save (SIGKILL, power loss) leaves its temporary file behind. Its name says
whose it is: ``.<name>.tmp-<pid>-<random>`` (hidden, never matching a ``*.pth`` / ``*.pt`` glob),
and the writer holds an advisory lock (``fcntl.flock``) on it until the rename. The kernel drops
the lock when the process dies, however it dies, so :func:`remove_stale_temp_files` can tell a
leftover (lock free) from a file being written (lock held) without trusting process ids, which
get reused. The id in the name only settles the instant between creating the file and locking it.
Where ``fcntl`` does not exist (Windows) nothing is ever removed: leftovers are kept, never risked.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

try:  # POSIX only; without it, stale files are never removed
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # the module or None: every use checks for None first

TEMP_INFIX = ".tmp-"
#: Names written by this version: ``.<target>.tmp-<pid>-<12 hex digits>``.
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.tmp-(?P<pid>[1-9][0-9]{0,9})-(?P<token>[0-9a-f]{12})$")
#: Names written by pfdtrain before 0.9 (``tempfile.mkstemp``): recognised, never removed (no owner known).
_OLD_TEMP_NAME = re.compile(r"^\..+\.tmp-[A-Za-z0-9_]{8}$")
_CREATE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_PROBE_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)

_in_flight: set[str] = set()  # temporary files this process is writing right now
_in_flight_lock = threading.Lock()


def temp_prefix(target: str | os.PathLike[str]) -> str:
    """Prefix of the temporary files written for ``target`` (e.g. ``.best.pth.tmp-``)."""
    return f".{Path(target).name}{TEMP_INFIX}"


def is_temp_file(path: str | os.PathLike[str]) -> bool:
    """True for a temporary file of :func:`atomic_write` (one being written, or left by a killed writer)."""
    name = Path(path).name
    return bool(_TEMP_NAME.match(name) or _OLD_TEMP_NAME.match(name))


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
    it replaces, or the usual ``0o666 & ~umask`` for a new file. ``write_fn`` gets the file open
    for reading and writing. ``check(temp_path)`` reads the complete new file while it is being
    fsynced (the two overlap: one waits for the disk, the other reads the page cache).
    ``before_replace(temp_path)`` runs after both, before the new file takes the target's name
    (to back up the old one, say). If either raises, nothing is replaced. Returns the target path.
    """
    target = Path(path)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    mode = _target_mode(target)
    fd, temp = _create_locked(target)
    handle = os.fdopen(fd, "r+b")
    try:
        try:
            write_fn(handle)
            handle.flush()
            _fsync_during(handle.fileno(), check, temp)
            with contextlib.suppress(OSError):  # e.g. filesystems without chmod support
                os.chmod(temp, mode)
            if before_replace is not None:
                before_replace(temp)
            if fcntl is None:  # Windows cannot rename a file that is open
                handle.close()
            os.replace(temp, target)  # the lock (held by `handle`) lasts until the file has its name
        finally:
            handle.close()
            with _in_flight_lock:
                _in_flight.discard(str(temp))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_directory(folder)
    return target


def _create_locked(target: Path) -> tuple[int, Path]:
    """Create ``.<name>.tmp-<pid>-<random>`` next to ``target``, registered and locked by this process."""
    while True:
        temp = target.with_name(f"{temp_prefix(target)}{os.getpid()}-{secrets.token_hex(6)}")
        with _in_flight_lock:
            _in_flight.add(str(temp))
        try:
            fd = os.open(temp, _CREATE_FLAGS, 0o600)
        except FileExistsError:
            continue
        except BaseException:
            with _in_flight_lock:
                _in_flight.discard(str(temp))
            raise
        if _lock(fd, temp):
            return fd, temp
        os.close(fd)  # another process's cleaner took it in the instant before the lock: start again
        with _in_flight_lock:
            _in_flight.discard(str(temp))


def _lock(fd: int, path: Path) -> bool:
    """Hold an exclusive lock on our new file; False if the name no longer leads to it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # uncontended on a new file, except by a cleaner for an instant
    except OSError:  # a filesystem without locks: the process id in the name has to do
        return True
    try:
        return os.path.samestat(os.fstat(fd), os.lstat(path))
    except OSError:
        return False


def remove_stale_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete what killed writers of :func:`atomic_write` left in ``folder``; return what was deleted.

    A file is deleted only when all of these hold: its name is exactly one this module gives
    (``.<name>.tmp-<pid>-<12 hex digits>``), it is a regular file owned by this user, no process
    holds its lock, and its writer is gone (the process is dead, or was started after the file
    was last written, i.e. its id was reused; this process's own files count as gone when it is
    not writing them). Anything else, look-alikes included, is never touched.
    """
    return _stale(folder, remove=True)


def stale_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """What :func:`remove_stale_temp_files` would delete in ``folder`` (nothing is changed)."""
    return _stale(folder, remove=False)


def _stale(folder: str | os.PathLike[str], *, remove: bool) -> list[Path]:
    if fcntl is None:
        return []
    try:
        with os.scandir(folder) as listing:
            names = sorted(entry.name for entry in listing)
    except OSError:
        return []
    found = []
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None:
            continue
        path = Path(folder) / name
        with _in_flight_lock:
            if str(path) in _in_flight:
                continue
        if _judge(path, int(match["pid"]), remove):
            found.append(path)
    return found


def _judge(path: Path, pid: int, remove: bool) -> bool:
    """True if ``path`` is stale (and, with ``remove``, was deleted)."""
    try:
        fd = os.open(path, _PROBE_FLAGS)
    except OSError:  # gone, a symlink (O_NOFOLLOW), unreadable: not ours to judge
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != _uid():
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                return False  # a live writer holds it
        if pid != os.getpid() and _alive(pid) and not _started_after(pid, info.st_mtime):
            return False  # its writer may be between creating and locking it
        try:
            if not os.path.samestat(info, os.lstat(path)):
                return False
            if remove:
                os.unlink(path)
        except OSError:
            return False
        return True
    finally:
        os.close(fd)


def _uid() -> int:
    getuid = getattr(os, "getuid", None)
    return getuid() if getuid is not None else -1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def _started_after(pid: int, mtime: float) -> bool:
    """True when process ``pid`` started after ``mtime`` (Linux ``/proc``; False where unknown)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])
        with open("/proc/stat", encoding="ascii") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith("btime "))
        started = boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return False
    return started > mtime + 2.0 and started <= time.time() + 1.0


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
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii",
                                                           errors="replace") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
