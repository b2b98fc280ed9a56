"""Put migrated checkpoints back as they were: from ``NAME.v1.bak``, verified, atomically.

``pfdtrain upgrade --test`` migrates checkpoints before the tests run again; when the tests do
worse, every file it migrated is restored. Before the migration each file's size and SHA-256 are
recorded; a restore copies the backup to a temporary file next to the checkpoint, checks that
the copy has exactly the recorded bytes, and only then renames it over the v2 file (the file's
times come back too). The backup is removed only after that, when the checkpoint itself is the
original again. A file whose backup is missing or does not match is left as the v2 file (which
holds every value of the original) and reported.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pfdtrain.checkpoint.atomic import atomic_write

BACKUP_SUFFIX = ".v1.bak"  # what pfdtrain.migration.migrate names its backups
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Original:
    """A checkpoint as it was before the migration."""

    path: Path  # the file the migration writes (a symlink's target: the link itself stays)
    size: int
    sha256: str

    @property
    def backup(self) -> Path:
        return self.path.with_name(self.path.name + BACKUP_SUFFIX)


@dataclass(frozen=True)
class Restored:
    """What happened to one file: ``status`` is ``restored``, ``unchanged`` (not migrated) or ``failed``."""

    path: Path
    status: str
    detail: str = ""


def record(paths: Iterable[Path]) -> list[Original]:
    """Size and digest of each file, before it is migrated."""
    out = []
    for path in paths:
        real = path.resolve()
        out.append(Original(real, real.stat().st_size, sha256(real)))
    return out


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def migrated(original: Original) -> bool:
    """True when the file is no longer the original and its backup is there."""
    return original.backup.exists() and not _is(original.path, original)


def restore(original: Original) -> Restored:
    """Put the original bytes back at ``original.path`` (never raises; see the module docstring)."""
    path, backup = original.path, original.backup
    try:
        if _is(path, original):
            return Restored(path, "unchanged", "still the original (not migrated)")
        if not backup.is_file():
            return Restored(path, "failed", f"its backup {backup.name} is missing; the v2 file was left in place")
        if not _is(backup, original):
            return Restored(path, "failed", f"its backup {backup.name} is not the file that was migrated; "
                                            "the v2 file was left in place")

        def copy(handle: BinaryIO) -> None:
            with open(backup, "rb") as source:
                shutil.copyfileobj(source, handle, _CHUNK)

        def check(temp: Path) -> None:
            if not _is(temp, original):
                raise OSError(f"the copy of {backup.name} does not match the original's digest")

        atomic_write(path, copy, check=check, before_replace=lambda temp: shutil.copystat(backup, temp))
        if not _is(path, original):  # what the rename put there, read back
            return Restored(path, "failed", "the restored file does not read back as the original; "
                                            f"{backup.name} was kept")
        os.unlink(backup)
        return Restored(path, "restored", f"from {backup.name} (SHA-256 {original.sha256[:12]}...; backup removed)")
    except OSError as exc:
        return Restored(path, "failed", f"{exc.strerror or exc}; nothing was replaced")


def _is(path: Path, original: Original) -> bool:
    """Does ``path`` hold exactly the original bytes?"""
    try:
        return path.stat().st_size == original.size and sha256(path) == original.sha256
    except OSError:
        return False
