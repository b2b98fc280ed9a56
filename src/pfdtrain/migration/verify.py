"""Check a written checkpoint the way a user will load it, not through the reader that produced it.

The migration reads its input memory-mapped, and torch's memory-mapped reader trusts the pickle
(record sizes, names, local headers). A verification that reloads the output the same way would
confirm the same mistakes. Here the written file must pass, in this order:

1. the record-level checks of :func:`~pfdtrain.migration.source_check.check_source`: zip structure,
   every storage the pickle names exactly one record of exactly ``numel * element size`` bytes;
2. a CRC-32 of every record, computed from the bytes in the file (over a shared memory map: nothing
   enters private memory) and compared with the CRC its directory holds. A storage copied from the
   input carries the input's CRC there, so this also proves the input record intact: a copy of
   damaged bytes cannot match. This runs while ``fsync`` waits for the disk, in parallel threads;
3. the content: reloaded (memory-mapped, now that every record is known to be right) and compared
   value by value with what was meant to be written. Tensors compare by dtype, shape, strides and
   storage: two storages are the same bytes when both CRCs are known and equal (the one written,
   just checked on disk, and the one of the memory handed to the writer); otherwise byte by byte;
4. for files up to :data:`PLAIN_LOAD_LIMIT`, a plain ``torch.load(path, weights_only=True)`` too:
   exactly what a user runs, compared again.

This costs one read of the file from the page cache (while ``fsync`` waits for the disk), instead of
the two that a byte-by-byte comparison with the input needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from pfdtrain.checkpoint.errors import CheckpointError, DamagedCheckpointError
from pfdtrain.checkpoint.format import is_v2
from pfdtrain.checkpoint.regular_file import open_regular, torch_readable_path
from pfdtrain.migration.compare import first_difference
from pfdtrain.migration.fast_save import WriteReport
from pfdtrain.migration.mapped_archive import MappedArchive
from pfdtrain.migration.source_check import SourceCheck, check_source
from pfdtrain.migration.zip_records import ZipRecord, crcs_of

#: Written files up to this size are also loaded the plain way (into memory) and compared.
PLAIN_LOAD_LIMIT = 64 << 20


class VerificationError(CheckpointError):
    """The file written does not hold exactly what was meant to be written; nothing was replaced."""

    kind = "verify-failed"


def verify_written(path: Path, expected: Any, report: WriteReport | None = None, *, legacy: bool = False,
                   source: SourceCheck | None = None) -> None:
    """Raise :class:`VerificationError` (or the input's :class:`DamagedCheckpointError`) unless ``path``
    holds exactly ``expected`` (see the module docstring)."""
    try:
        written = check_source(path, crc="pickle")
    except DamagedCheckpointError as exc:
        raise VerificationError(f"the written file is not a sound checkpoint: {exc}") from None
    assert written.layout is not None  # torch.save writes zip archives
    _check_records(written, report or WriteReport(fast=False), source)
    with torch_readable_path(path) as name:
        reloaded = torch.load(name, map_location="cpu", weights_only=True, mmap=True)
    if not legacy and not is_v2(reloaded):
        raise VerificationError(f"{path}: the written file is not a v2 checkpoint")
    problem = first_difference(expected, reloaded, same_tensor=_SameStorage(path, written, report))
    if problem:
        raise VerificationError(f"the written file differs from the migrated checkpoint: {problem}")
    if written.size <= PLAIN_LOAD_LIMIT:
        try:
            with torch_readable_path(path) as name:
                plain = torch.load(name, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise VerificationError(f"torch.load(weights_only=True) refuses the written file: {exc}") from None
        problem = first_difference(expected, plain)
        if problem:
            raise VerificationError(f"the written file, loaded with plain torch.load, differs: {problem}")


def _check_records(written: SourceCheck, report: WriteReport, source: SourceCheck | None) -> None:
    """CRC-32 of every written record against its directory; name the input when its copy is to blame."""
    assert written.layout is not None
    records = [r for r in written.layout.records if r.size]
    fd = open_regular(written.path)
    try:
        actual = crcs_of(fd, [(r.data_offset, r.size) for r in records])
    finally:
        os.close(fd)
    for record, crc in zip(records, actual, strict=True):
        if crc == record.crc:
            continue
        copied = report.copied.get(record.data_offset)
        if copied is not None and source is not None:
            _blame_source(source, copied)
        raise VerificationError(
            f"record {record.name!r} of the written file does not match its CRC-32 (recorded {record.crc:08x}, "
            f"found {crc:08x}): a write or disk error. Nothing was replaced; run again."
        )


def _blame_source(source: SourceCheck, record: ZipRecord) -> None:
    """Raise the input's damage if its record fails its own CRC (the copy carried the damage over)."""
    fd = open_regular(source.path)
    try:
        crc = crcs_of(fd, [(record.data_offset, record.size)])[0]
    finally:
        os.close(fd)
    if crc != record.crc:
        raise DamagedCheckpointError(
            f"{source.path} is damaged: the data of record {record.name!r} ({record.size} bytes) does not match "
            f"its CRC-32 (recorded {record.crc:08x}, found {crc:08x}). It was changed on disk or in transfer; "
            "nothing was written. Use another copy of this checkpoint."
        )


class _SameStorage:
    """Settles a tensor comparison from CRCs: the written storage's (checked on disk) and the CRC of the
    memory the writer was handed for the expected tensor's storage."""

    def __init__(self, path: Path, written: SourceCheck, report: WriteReport | None) -> None:
        assert written.layout is not None
        self._archive = MappedArchive(path, written.layout)
        self._crcs = report.by_address if report is not None else {}

    def __call__(self, expected: torch.Tensor, actual: torch.Tensor) -> bool | None:
        if (expected.layout != torch.strided or expected.is_quantized or actual.is_quantized
                or expected.device.type != "cpu" or not self._crcs):
            return None
        if expected.stride() != actual.stride() or expected.storage_offset() != actual.storage_offset():
            return None
        mine, theirs = expected.untyped_storage(), actual.untyped_storage()
        if mine.nbytes() != theirs.nbytes():
            return None
        crc = self._crcs.get((mine.data_ptr(), mine.nbytes()))
        record = self._archive.find(theirs.data_ptr(), theirs.nbytes()) if theirs.nbytes() else None
        if crc is None or record is None:
            return None
        return crc == record.crc
