"""Migrate one checkpoint file: check, load (memory-mapped), detect, upgrade, write atomically, verify, back up.

The order is what makes it safe. Before torch reads anything, the input is checked record by
record (:mod:`~pfdtrain.migration.source_check`: a damaged or hostile file is named and nothing is
written). The input is only ever read (memory-mapped, so a 1 GB file does not come into RAM), the
new file is written to a temporary file next to the target and fsynced, and only once it is
complete and verified (:mod:`~pfdtrain.migration.verify`, in every mode) is the backup
``<name>.v1.bak`` made, as a hard link to the old file, and the new file renamed over the old
name. The old file is never opened for writing (writing over a file that is mapped for reading
crashes with SIGBUS), and at every moment each path holds a complete old or new file. A failed
file leaves nothing behind: no temporary file, no backup, no output, no folder made for it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pfdtrain.checkpoint.atomic import atomic_write
from pfdtrain.checkpoint.errors import CheckpointError, NotRegularFileError
from pfdtrain.migration.any_format import ReadResult, read_as_v2
from pfdtrain.migration.compare import first_difference, iter_tensors
from pfdtrain.migration.fast_save import WriteReport, save_fast
from pfdtrain.migration.layouts import V2
from pfdtrain.migration.mapped_archive import MappedArchive
from pfdtrain.migration.safe_load import AllowedGlobal
from pfdtrain.migration.source_check import SourceCheck, check_source, check_unchecked
from pfdtrain.migration.upgraders import DOWNGRADERS, describe_changes, downgrade
from pfdtrain.migration.verify import VerificationError, verify_written

BACKUP_SUFFIX = ".v1.bak"


class BackupError(CheckpointError):
    """``<name>.v1.bak`` already exists and is another file; it is never overwritten."""

    kind = "backup-exists"


@dataclass(frozen=True)
class MigrationOptions:
    """What to do with each file (see the ``migrate-checkpoint`` command for the user's view)."""

    dry_run: bool = False
    verify: bool = True  # every written file is verified; kept for callers that pass it
    downgrade_to: str | None = None
    allow_globals: Sequence[AllowedGlobal] = ()
    trust_unsafe: bool = False


@dataclass
class FileResult:
    """The outcome for one file, as shown in the summary and written to ``--report``.

    ``status``: ``migrated``, ``up-to-date`` (already v2, untouched), ``would-migrate``
    (``--dry-run``/``--check``), ``downgraded``, ``would-downgrade``, ``skipped`` (not a regular
    file: never opened) or ``failed`` (``error_kind`` says why: ``unsafe``, ``damaged``,
    ``truncated``, ``malformed``, ``empty``, ``lfs-pointer``, ``not-a-checkpoint``,
    ``unknown-layout``, ``verify-failed``, ...).
    """

    source: str
    status: str = "failed"
    size: int = 0
    layout: str | None = None
    evidence: list[str] = field(default_factory=list)
    serialization: str | None = None
    target: str | None = None
    backup: str | None = None
    verified: bool = False
    tensors: int = 0
    tensor_bytes: int = 0
    changes: list[str] = field(default_factory=list)
    error_kind: str | None = None
    error: str | None = None
    unsafe_globals: list[str] = field(default_factory=list)
    traceback: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def migrate_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str] | None = None,
    options: MigrationOptions = MigrationOptions(),
    on_bytes: Callable[[int], None] | None = None,
) -> FileResult:
    """Migrate ``source`` to ``target`` (None: in place, with a backup); never raises for a bad file.

    ``on_bytes(n)`` is called as the new file is written (for a progress bar).
    """
    started = time.perf_counter()
    source = Path(source)
    result = FileResult(source=str(source), size=_size(source))
    try:
        _migrate(source, None if target is None else Path(target), options, on_bytes, result)
    except NotRegularFileError as exc:
        result.status, result.error_kind, result.error = "skipped", exc.kind, str(exc)
    except Exception as exc:  # one bad file never stops a folder: it is reported instead
        result.status = "failed"
        result.error_kind = error_kind(exc)
        result.error = str(exc) or type(exc).__name__
        result.unsafe_globals = list(getattr(exc, "unsafe_globals", ()) or ())
        result.traceback = traceback.format_exc()
    result.seconds = time.perf_counter() - started
    return result


def error_kind(exc: BaseException) -> str:
    """A short, stable name for why a file failed (used in the summary and the report)."""
    from pfdtrain.checkpoint.errors import CheckpointVersionError

    if isinstance(exc, CheckpointVersionError):
        return "newer-format"
    kind = getattr(exc, "kind", None)
    if isinstance(kind, str):
        return kind
    if isinstance(exc, FileNotFoundError):
        return "missing"
    if isinstance(exc, PermissionError):
        return "permission-denied"
    if isinstance(exc, OSError):
        return "os-error"
    return "error"


def _migrate(
    source: Path, target: Path | None, options: MigrationOptions,
    on_bytes: Callable[[int], None] | None, result: FileResult,
) -> None:
    # A dry run checks every CRC now; a write checks the big storage records as it copies them.
    checked = check_source(source, crc="all" if options.dry_run else "large-later")
    read = read_as_v2(
        source, "cpu", mmap=True, allow_globals=options.allow_globals, trust_unsafe=options.trust_unsafe,
        checked=checked,
    )
    result.layout = read.detection.layout
    result.evidence = list(read.detection.evidence)
    result.serialization = read.loaded.info.serialization
    tensors = list(iter_tensors(read.checkpoint))
    result.tensors = len(tensors)
    result.tensor_bytes = sum(t.numel() * t.element_size() for t in tensors)

    if options.downgrade_to:
        payload: Any = downgrade(read.checkpoint, options.downgrade_to)
        result.changes = [f"v2 -> legacy layout {options.downgrade_to}"]
        done, planned = "downgraded", "would-downgrade"
    elif read.detection.layout == V2:
        check_unchecked(checked)  # "already v2" is said only of a file whose every record checks out
        result.status = "up-to-date"
        return
    else:
        payload = read.checkpoint
        result.changes = describe_changes(read.loaded.obj, read.detection.layout, read.loaded.conversions)
        _check_nothing_lost(read)
        done, planned = "migrated", "would-migrate"
    if options.dry_run:
        result.status = planned
        return

    in_place = target is None or (target.exists() and os.path.samefile(source, target))
    if in_place and options.downgrade_to:
        raise ValueError("a downgrade is never written in place: give an output folder")
    # In place through a symlink: the file it points to is migrated, the link stays a link.
    destination = source.resolve() if in_place or target is None else target
    backup = destination.with_name(destination.name + BACKUP_SUFFIX) if in_place else None
    reports: list[WriteReport] = []

    def write(handle: BinaryIO) -> None:
        reports.append(save_fast(payload, handle, on_bytes, _source_archive(checked)))

    def check(temp: Path) -> None:
        verify_written(temp, payload, reports[-1] if reports else None, legacy=bool(options.downgrade_to),
                       source=checked)
        check_unchecked(checked, reports[-1].proven if reports else ())  # what the write did not prove
        result.verified = True

    made_backup: list[Path] = []

    def before_replace(temp: Path) -> None:
        if backup is not None:
            if make_backup(destination, backup):
                made_backup.append(backup)
            result.backup = str(backup)

    created = _make_folders(destination.parent)
    try:
        atomic_write(destination, write, check=check, before_replace=before_replace)
    except BaseException:
        result.backup = None
        for path in made_backup:  # the old file keeps its name: its fresh backup link goes again
            with contextlib.suppress(OSError):
                path.unlink()
        _remove_empty(created)
        raise
    result.target = str(destination)
    result.status = done


def _source_archive(checked: SourceCheck) -> MappedArchive | None:
    """The memory-mapped source archive, whose storage records the kernel copies (zip inputs in this
    machine's byte order: a byte-swapped storage differs from its record)."""
    if not checked.copyable or checked.layout is None:
        return None
    try:
        return MappedArchive(checked.path, checked.layout)
    except OSError:  # storages are then written from memory: slower, never wrong
        return None


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return those created (deepest first)."""
    missing = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders made for a file that failed, deepest first, while they are empty."""
    for folder in folders:
        if not _rmdir(folder):
            return


def _rmdir(folder: Path) -> bool:
    try:
        folder.rmdir()
    except OSError:  # not empty (another file was written there), or gone
        return False
    return True


def _check_nothing_lost(read: ReadResult) -> None:
    """The upgrade must be undone exactly by the layout's downgrade (tensors by identity: no I/O)."""
    down = DOWNGRADERS.get(read.detection.layout)
    if down is None:  # whole_module: only its state_dict is kept, by design
        return
    problem = first_difference(read.loaded.obj, down(read.checkpoint), "v1")
    if problem:
        raise VerificationError(f"{read.loaded.info.path}: the v2 form would lose data ({problem}); nothing written")


def make_backup(source: Path, backup: Path) -> bool:
    """``backup`` becomes the old file: a hard link (instant, no copy), else an atomic copy.

    Returns False when it already was (left by a run interrupted right after this step).
    """
    if backup.exists():
        if os.path.samefile(source, backup):
            return False
        raise BackupError(f"{backup} already exists and is a different file; move it away and run again")
    try:
        os.link(source, backup)
    except OSError:  # filesystems without hard links
        with open(source, "rb") as old:
            atomic_write(backup, lambda handle: shutil.copyfileobj(old, handle, 1 << 20))
    return True


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
