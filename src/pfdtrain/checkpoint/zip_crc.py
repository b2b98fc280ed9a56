"""``torch.save`` to an open file at copy speed: CRC-32s computed with zlib as the bytes stream out.

torch's zip writer computes each record's CRC-32 with miniz, byte by byte, which costs more than
writing the data (about 1 s per GB here, while copying the file takes about 1 s). zlib's CRC is
several times faster. So the file is written with torch's CRC switched off, every chunk handed to
``write()`` gets its zlib CRC on the way, and the CRCs are then put where zip readers expect
them: the record's data descriptor and its central-directory entry (torch sets the
data-descriptor flag, so the local header keeps 0). A record whose data did not arrive as one
chunk has its CRC computed from the file. If anything about the archive is unexpected, the file
is rewritten with a plain ``torch.save`` instead: never a zip with missing CRCs.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import zipfile
import zlib
from typing import Any, BinaryIO, Callable, Iterator, Optional

import torch

_CENTRAL = 0x02014B50
_LOCAL = 0x04034B50
_DESCRIPTOR = 0x08074B50
_DATA_DESCRIPTOR_FLAG = 0x08
_READ_CHUNK = 16 << 20
_PARALLEL_FROM = 4 << 20

_lock = threading.Lock()
_users = 0
_saved_option: Optional[bool] = None


def save_with_fast_crc(obj: Any, handle: BinaryIO, on_bytes: Optional[Callable[[int], None]] = None) -> None:
    """``torch.save(obj, handle)`` with zlib CRCs.

    ``handle`` must be a seekable file opened read-write (as :func:`atomic_write`'s temporary file
    is); otherwise the CRCs cannot be filled in and a plain ``torch.save`` is used.
    """
    recorder = _CrcRecorder(handle, on_bytes)
    try:
        with _torch_crc_disabled() as disabled:
            torch.save(obj, recorder)
        handle.flush()
        if disabled:
            fill_crcs(handle.fileno(), recorder.crcs)
    except Exception:
        handle.seek(0)
        handle.truncate()
        torch.save(obj, _CrcRecorder(handle, None))  # torch computes its own CRCs


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


class _CrcRecorder:
    """Passes writes through; remembers the zlib CRC of each chunk by (offset, size)."""

    def __init__(self, handle: BinaryIO, on_bytes: Optional[Callable[[int], None]]) -> None:
        self._handle = handle
        self._on_bytes = on_bytes
        self._position = handle.tell()
        self.crcs: dict[tuple[int, int], int] = {}

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        if size >= _PARALLEL_FROM:  # both release the GIL: the CRC runs while the kernel copies
            result: list[int] = []
            worker = threading.Thread(target=lambda: result.append(zlib.crc32(data)))
            worker.start()
            try:
                written = self._handle.write(data)
            finally:
                worker.join()
            self.crcs[(self._position, size)] = result[0]
        else:
            self.crcs[(self._position, size)] = zlib.crc32(data)
            written = self._handle.write(data)
        self._position += size
        if self._on_bytes is not None:
            self._on_bytes(size)
        return written

    def flush(self) -> None:
        self._handle.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)
