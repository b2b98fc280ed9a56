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
  copies it. A record that did not arrive as one chunk has its CRC computed from the file.

If anything about the archive is unexpected the file is rewritten with a plain ``torch.save``:
never a zip with missing CRCs. The caller's verification (``--verify``, always in place) then
compares every tensor of the written file with the source.

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
from typing import Any, BinaryIO

import torch

_CENTRAL = 0x02014B50
_LOCAL = 0x04034B50
_DESCRIPTOR = 0x08074B50
_DATA_DESCRIPTOR_FLAG = 0x08
_READ_CHUNK = 16 << 20
_BIG = 4 << 20  # chunks from here on: kernel copy or CRC in a thread

_lock = threading.Lock()
_users = 0
_saved_option: bool | None = None


class SourceArchive:
    """A source zip checkpoint that is memory-mapped in this process: its records, CRCs and mapping.

    :meth:`find` tells whether a chunk of memory is exactly one of its records (by the address
    the file is mapped at, read from ``/proc/self/maps``; elsewhere nothing is found and chunks
    are simply written).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        stat = os.stat(self.path)
        self._identity = (os.major(stat.st_dev), os.minor(stat.st_dev), stat.st_ino)
        self._records: dict[int, tuple[int, int]] = {}  # data offset -> (size, crc)
        with open(self.path, "rb") as handle, zipfile.ZipFile(handle) as archive:
            for info in archive.infolist():
                if info.compress_type != zipfile.ZIP_STORED:
                    continue
                handle.seek(info.header_offset + 26)
                name_len, extra_len = struct.unpack("<HH", handle.read(4))
                self._records[info.header_offset + 30 + name_len + extra_len] = (info.compress_size, info.CRC)
        self._maps: list[tuple[int, int, int]] | None = None

    def find(self, address: int, size: int) -> tuple[int, int] | None:
        """(file offset, CRC) of the record whose data is exactly ``size`` bytes mapped at ``address``."""
        if self._maps is None:
            self._maps = self._mappings()
        for start, end, file_offset in self._maps:
            if start <= address and address + size <= end:
                offset = address - start + file_offset
                record = self._records.get(offset)
                if record is not None and record[0] == size:
                    return offset, record[1]
        return None

    def _mappings(self) -> list[tuple[int, int, int]]:
        found = []
        try:
            with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
                for line in maps:
                    parts = line.split(maxsplit=5)
                    if len(parts) < 6 or ":" not in parts[3]:
                        continue
                    major, minor = (int(x, 16) for x in parts[3].split(":"))
                    if (major, minor, int(parts[4])) == self._identity:
                        start, end = (int(x, 16) for x in parts[0].split("-"))
                        found.append((start, end, int(parts[2], 16)))
        except (OSError, ValueError):
            return []
        return found


def save_fast(
    obj: Any,
    handle: BinaryIO,
    on_bytes: Callable[[int], None] | None = None,
    source: SourceArchive | None = None,
) -> None:
    """``torch.save(obj, handle)``, fast. ``handle`` must be a seekable file opened read-write.

    (as :func:`~pfdtrain.checkpoint.atomic.atomic_write`'s temporary file is); otherwise the CRCs
    cannot be filled in and a plain ``torch.save`` is used.
    """
    start = handle.tell()
    try:
        with _torch_crc_disabled() as disabled, _Writer(handle, on_bytes, source if disabled else None) as writer:
            torch.save(obj, writer)
        if disabled:
            fill_crcs(handle.fileno(), writer.crcs)
    except Exception:
        handle.seek(start)
        handle.truncate()
        torch.save(obj, handle)  # torch computes its own CRCs


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
                 source: SourceArchive | None) -> None:
        handle.flush()  # from here on, bytes go straight to the descriptor
        self._fd = handle.fileno()
        self._position = os.lseek(self._fd, 0, os.SEEK_CUR)
        self._on_bytes = on_bytes
        self._source = source
        self._source_fd: int | None = None
        self.crcs: dict[tuple[int, int], int] = {}

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
        found = self._find_in_source(view) if size >= _BIG else None
        if found is not None and self._copy_from_source(found[0], size):
            crc = found[1]
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

    def _find_in_source(self, view: memoryview) -> tuple[int, int] | None:
        if self._source is None or not view.c_contiguous:
            return None
        import numpy as np

        address = np.frombuffer(view, dtype=np.uint8).__array_interface__["data"][0]
        return self._source.find(address, view.nbytes)

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
            return True
        except OSError:
            os.lseek(self._fd, start, os.SEEK_SET)  # start the chunk again, written from memory
            os.ftruncate(self._fd, start)
            return False


def _sendfile(source_fd: int, target_fd: int, count: int, offset: int) -> int:
    return os.sendfile(target_fd, source_fd, offset, count)
