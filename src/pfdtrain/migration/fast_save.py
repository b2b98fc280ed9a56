"""``torch.save`` at the speed of copying the file, for migrations of memory-mapped checkpoints.

Two costs make a plain ``torch.save`` of a 1 GB checkpoint much slower than ``cp``: torch's zip
writer computes each record's CRC-32 with miniz, byte by byte (about 1 s per GB here), and the
bytes travel from the mapped source pages through user space. Here:

* the file is written with torch's CRC switched off, and the CRCs are filled in afterwards where
  zip readers expect them: each record's data descriptor and its central-directory entry (torch
  sets the data-descriptor flag, so the local header keeps 0);
* a chunk that is a tensor storage memory-mapped from the source archive is byte for byte one
  record of that archive: the kernel copies it from the source file (``copy_file_range``, as
  ``cp`` does) and the source's CRC is reused;
* any other chunk is written normally, its CRC computed by zlib in a thread while the kernel
  copies it. A record that did not arrive as one chunk has its CRC computed from the file;
* a storage found in the source whose CRC is computed here (it was written from memory) must
  match the source record's CRC: otherwise the input is damaged and the write stops.

The write reports the CRC each chunk got (:class:`WriteReport`), for the verification that
follows (:mod:`~pfdtrain.migration.verify`), which reads every record back from the file. If
anything about the archive is unexpected the file is rewritten with a plain ``torch.save``: never
a zip with missing CRCs.

torch's CRC switch is process-wide (``torch.serialization.set_crc32_options``): while a
migration writes, another thread's ``torch.save`` in the same process would also skip CRCs. The
command runs nothing else; a program calling ``migrate_file`` next to its own saves should not.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

import torch

from pfdtrain.checkpoint.errors import DamagedCheckpointError
from pfdtrain.migration.mapped_archive import MappedArchive
from pfdtrain.migration.zip_records import ZipRecord

_CENTRAL = 0x02014B50
_LOCAL = 0x04034B50
_DESCRIPTOR = 0x08074B50
_DATA_DESCRIPTOR_FLAG = 0x08
_READ_CHUNK = 16 << 20
_BIG = 4 << 20  # chunks from here on: kernel copy or CRC in a thread

_lock = threading.Lock()
_users = 0
_saved_option: bool | None = None


@dataclass
class WriteReport:
    """What the write knows about the bytes it wrote, for the verification that follows.

    ``by_address`` maps each chunk of memory torch handed over, as (address, size), to the CRC-32 its
    record got: the source record's CRC for a storage copied from the source archive (so checking the
    written record proves the source intact too), else the CRC of the memory written. ``proven``
    holds the data offsets of source records whose CRC that check covers.
    """

    by_address: dict[tuple[int, int], int] = field(default_factory=dict)
    proven: set[int] = field(default_factory=set)
    copied: dict[int, ZipRecord] = field(default_factory=dict)
    fast: bool = True


def save_fast(
    obj: Any,
    handle: BinaryIO,
    on_bytes: Callable[[int], None] | None = None,
    source: MappedArchive | None = None,
) -> WriteReport:
    """``torch.save(obj, handle)``, fast. ``handle`` must be a seekable file opened read-write
    (as :func:`~pfdtrain.checkpoint.atomic.atomic_write`'s temporary file is); otherwise the CRCs
    cannot be filled in and a plain ``torch.save`` is used.

    A storage found in ``source`` whose bytes in memory do not match the source record's CRC raises
    :class:`~pfdtrain.checkpoint.errors.DamagedCheckpointError`: the input is damaged.
    """
    start = handle.tell()
    writer: _Writer | None = None
    try:
        with _torch_crc_disabled() as disabled, _Writer(handle, on_bytes, source if disabled else None) as writer:
            torch.save(obj, cast(BinaryIO, writer))  # a file-like object: write() and flush() are all torch uses
        if disabled:
            fill_crcs(handle.fileno(), writer.crcs)
            return WriteReport(writer.by_address, writer.proven, writer.copied)
    except Exception:
        if writer is not None and writer.damage is not None:  # torch wraps what its writer raised
            raise writer.damage from None
    handle.seek(start)
    handle.truncate()
    torch.save(obj, handle)  # torch computes its own CRCs
    return WriteReport(fast=False)


def fill_crcs(fd: int, known: dict[tuple[int, int], int]) -> None:
    """Write every record's CRC-32 into the archive open at ``fd`` (read-write).

    ``known`` maps (data offset, size) to the CRC of exactly those bytes; others are computed.
    """
    with os.fdopen(os.dup(fd), "rb") as reader, zipfile.ZipFile(reader) as archive:
        entry = archive.start_dir
        for info in archive.infolist():
            signature, = struct.unpack("<I", os.pread(fd, 4, entry))
            name_len, extra_len, comment_len = struct.unpack("<HHH", os.pread(fd, 6, entry + 28))
            local_sig, = struct.unpack("<I", os.pread(fd, 4, info.header_offset))
            local_name, local_extra = struct.unpack("<HH", os.pread(fd, 4, info.header_offset + 26))
            if signature != _CENTRAL or local_sig != _LOCAL or info.compress_type != zipfile.ZIP_STORED:
                raise ValueError("unexpected zip structure")
            data = info.header_offset + 30 + local_name + local_extra
            size = info.compress_size
            crc = known.get((data, size))
            if crc is None:
                crc = _crc_of_range(fd, data, size)
            packed = struct.pack("<I", crc)
            if info.flag_bits & _DATA_DESCRIPTOR_FLAG:
                has_signature = struct.unpack("<I", os.pread(fd, 4, data + size))[0] == _DESCRIPTOR
                os.pwrite(fd, packed, data + size + (4 if has_signature else 0))
            else:
                os.pwrite(fd, packed, info.header_offset + 14)
            os.pwrite(fd, packed, entry + 16)
            entry += 46 + name_len + extra_len + comment_len


def _crc_of_range(fd: int, start: int, size: int) -> int:
    crc, done = 0, 0
    while done < size:
        chunk = os.pread(fd, min(_READ_CHUNK, size - done), start + done)
        if not chunk:
            raise ValueError("archive shorter than its directory says")
        crc = zlib.crc32(chunk, crc)
        done += len(chunk)
    return crc


@contextlib.contextmanager
def _torch_crc_disabled() -> Iterator[bool]:
    """Switch torch's CRC off for the saves in flight (shared by threads); yields whether it could."""
    global _users, _saved_option
    getter = getattr(torch.serialization, "get_crc32_options", None)
    setter = getattr(torch.serialization, "set_crc32_options", None)
    if getter is None or setter is None:
        yield False
        return
    with _lock:
        if _users == 0:
            _saved_option = bool(getter())
            setter(False)
        _users += 1
    try:
        yield True
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                setter(_saved_option)


class _Writer:
    """What torch.save writes to: the raw file descriptor, a CRC for every chunk by (offset, size)."""

    def __init__(self, handle: BinaryIO, on_bytes: Callable[[int], None] | None,
                 source: MappedArchive | None) -> None:
        handle.flush()  # from here on, bytes go straight to the descriptor
        self._fd = handle.fileno()
        self._position = os.lseek(self._fd, 0, os.SEEK_CUR)
        self._on_bytes = on_bytes
        self._source = source
        self._source_fd: int | None = None
        self.crcs: dict[tuple[int, int], int] = {}
        self.by_address: dict[tuple[int, int], int] = {}
        self.proven: set[int] = set()
        self.copied: dict[int, ZipRecord] = {}  # output offset of a kernel-copied chunk -> its source record
        self.damage: DamagedCheckpointError | None = None

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._source_fd is not None:
            os.close(self._source_fd)

    def write(self, data: Any) -> int:
        view = memoryview(data)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        size = view.nbytes
        address = _address(view) if size and view.c_contiguous else 0
        found = self._source.find(address, size) if self._source is not None and address else None
        if found is not None and size >= _BIG and self._copy_from_source(found.data_offset, size):
            crc = found.crc  # the written record is checked against it: that proves the source record too
            self.copied[self._position] = found

        elif size >= _BIG:  # zlib and write(2) both release the GIL: the CRC runs during the copy
            result: list[int] = []
            worker = threading.Thread(target=lambda: result.append(zlib.crc32(view)))
            worker.start()
            try:
                self._write_all(view)
            finally:
                worker.join()
            crc = result[0]
        else:
            crc = zlib.crc32(view)
            self._write_all(view)
        if found is not None:
            if crc != found.crc:
                self.damage = DamagedCheckpointError(
                    f"{self._source.path if self._source else 'the input'} is damaged: the data of record "
                    f"{found.name!r} ({size} bytes) does not match its CRC-32 (recorded {found.crc:08x}, found "
                    f"{crc:08x}). It was changed on disk or in transfer; nothing was written. Use another copy of "
                    "this checkpoint."
                )
                raise self.damage
            self.proven.add(found.data_offset)
        if size:
            self.by_address[(address, size)] = crc
        self.crcs[(self._position, size)] = crc
        self._position += size
        if self._on_bytes is not None:
            self._on_bytes(size)
        return size

    def flush(self) -> None:
        pass  # nothing is buffered here

    def _write_all(self, view: memoryview) -> None:
        done = 0
        while done < len(view):
            done += os.write(self._fd, view[done:])

    def _copy_from_source(self, offset: int, size: int) -> bool:
        """Kernel copy of a source record (no pages through user space); False if unsupported."""
        assert self._source is not None
        copy = getattr(os, "copy_file_range", None) or _sendfile
        start = os.lseek(self._fd, 0, os.SEEK_CUR)
        try:
            if self._source_fd is None:
                self._source_fd = os.open(self._source.path, os.O_RDONLY)
            done = 0
            while done < size:
                copied = copy(self._source_fd, self._fd, size - done, offset + done)
                if copied <= 0:
                    raise OSError("no progress")
                done += copied
        except OSError:
            os.lseek(self._fd, start, os.SEEK_SET)  # start the chunk again, written from memory
            os.ftruncate(self._fd, start)
            return False
        return True


def _address(view: memoryview) -> int:
    """Where a (contiguous) buffer lies in memory."""
    import numpy as np

    return int(np.frombuffer(view, dtype=np.uint8).__array_interface__["data"][0])


def _sendfile(source_fd: int, target_fd: int, count: int, offset: int) -> int:
    return os.sendfile(target_fd, source_fd, offset, count)
