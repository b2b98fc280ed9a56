"""The records of a zip checkpoint, read strictly: every header checked against the central directory.

torch's memory-mapped reader looks a record up by name in the central directory and maps
``offset .. offset + nbytes`` of the file, where ``nbytes`` comes from the pickle: it checks neither
the record's size nor its local header. Python's ``zipfile`` is lenient too (it searches for the end
record, tolerates gaps and duplicate names). Here the whole file must add up: end record (and zip64
end record) consistent, central directory exactly where it says, every record stored (not
compressed), its local header and data descriptor agreeing with the central directory, records
contiguous from byte 0 with no gap, overlap or duplicate name, and nothing after the end record.
CRCs are checked by :func:`check_crcs`, in parallel threads over a memory map (no private copy).
"""

from __future__ import annotations

import functools
import mmap
import os
import struct
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pfdtrain.checkpoint.errors import DamagedCheckpointError
from pfdtrain.checkpoint.regular_file import read_at

_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"
_LOCATOR = b"PK\x06\x07"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_DESCRIPTOR = b"PK\x07\x08"
_ZIP64_EXTRA = 0x0001
_TORCH_PADDING = 0x4246  # b"FB": torch pads local headers so that record data is 64-byte aligned
_ENCRYPTED, _HAS_DESCRIPTOR = 0x0001, 0x0008
_MAX_COMMENT = 0xFFFF
_CRC_PIECE = 64 << 20


@dataclass(frozen=True)
class ZipRecord:
    """One stored record: its data is ``size`` bytes at ``data_offset``; ``end`` follows its descriptor."""

    name: str
    header_offset: int
    data_offset: int
    size: int
    crc: int
    end: int


@dataclass(frozen=True)
class ZipLayout:
    """Every record of an archive that passed the structural checks, in file order."""

    file_size: int
    records: tuple[ZipRecord, ...]
    central_offset: int
    by_name: dict[str, ZipRecord] = field(compare=False, repr=False)

    @property
    def prefix(self) -> str:
        """The archive's top folder with its slash (``"model/"``): every record lies below it."""
        first = self.records[0].name
        return first[: first.index("/") + 1] if "/" in first else ""


def read_zip_layout(fd: int, source: str) -> ZipLayout:
    """Read and check the structure of the zip archive open at ``fd``; raise :class:`DamagedCheckpointError`."""
    file_size = os.fstat(fd).st_size
    entries, central_offset, central_end = _central_directory(fd, file_size, source)
    records = []
    seen: dict[str, int] = {}
    view = _pread(fd, central_end - central_offset, central_offset, source, "the central directory")
    position = 0
    for index in range(entries):
        record, position = _entry(fd, view, position, file_size, central_offset, source)
        if record.name in seen:
            raise _damaged(source, f"record {record.name!r} is listed twice in the central directory")
        seen[record.name] = index
        records.append(record)
    if position != len(view):
        raise _damaged(source, f"the central directory holds {len(view) - position} bytes after its last entry")
    ordered = sorted(records, key=lambda r: r.header_offset)
    expected = 0
    for record in ordered:
        if record.header_offset != expected:
            what = "overlaps the one before it" if record.header_offset < expected else "follows a gap"
            raise _damaged(source, f"record {record.name!r} at byte {record.header_offset} {what}")
        expected = record.end
    if expected != central_offset:
        raise _damaged(source, f"{central_offset - expected} unaccounted bytes before the central directory")
    if not ordered:
        raise _damaged(source, "the archive has no records")
    prefixes = {r.name.split("/", 1)[0] for r in ordered}
    if len(prefixes) != 1 or any("/" not in r.name for r in ordered):
        raise _damaged(source, "its records do not share one top folder (" + ", ".join(sorted(prefixes)[:4]) + ")")
    return ZipLayout(file_size, tuple(ordered), central_offset, {r.name: r for r in ordered})


def _central_directory(fd: int, file_size: int, source: str) -> tuple[int, int, int]:
    """(entry count, central directory offset, its end) from the end record(s) at the end of the file."""
    tail_size = min(file_size, 22 + _MAX_COMMENT + 20 + 56)
    tail = _pread(fd, tail_size, file_size - tail_size, source, "the end of the file")
    at = tail.rfind(_EOCD)
    while at >= 0 and not (at + 22 <= len(tail) and at + 22 + struct.unpack_from("<H", tail, at + 20)[0] == len(tail)):
        at = tail.rfind(_EOCD, 0, at)
    if at < 0:
        raise DamagedCheckpointError(
            f"{source} is a truncated or damaged zip archive ({file_size} bytes): it has no end-of-central-"
            "directory record, so it was cut short (an interrupted save or an incomplete copy).",
            kind="truncated",
        )
    eocd_offset = file_size - tail_size + at
    disk, central_disk, on_disk, entries, size, offset, _ = struct.unpack_from("<HHHHIIH", tail, at + 4)
    central_end = eocd_offset
    locator_at = at - 20
    if locator_at >= 0 and tail[locator_at:locator_at + 4] == _LOCATOR:
        locator_disk, eocd64_offset, disks = struct.unpack_from("<IQI", tail, locator_at + 4)
        record = _pread(fd, 56, eocd64_offset, source, "the zip64 end record") if eocd64_offset < file_size else b""
        if record[:4] != _EOCD64 or locator_disk != 0 or disks != 1:
            raise _damaged(source, "its zip64 end record is missing or misplaced")
        record_size, _, _, disk64, central_disk64, on_disk64, entries64, size64, offset64 = struct.unpack_from(
            "<QHHIIQQQQ", record, 4)
        if eocd64_offset + 12 + record_size != eocd_offset - 20:
            raise _damaged(source, "its zip64 end record does not end where the locator says")
        for short, long, limit in ((entries, entries64, 0xFFFF), (on_disk, on_disk64, 0xFFFF),
                                   (size, size64, 0xFFFFFFFF), (offset, offset64, 0xFFFFFFFF)):
            if short != long and short != limit:
                raise _damaged(source, "its end record and zip64 end record disagree")
        disk, central_disk, on_disk = disk64, central_disk64, on_disk64
        entries, size, offset = entries64, size64, offset64
        central_end = eocd64_offset
    if disk != 0 or central_disk != 0 or on_disk != entries:
        raise _damaged(source, "its end record describes a multi-part archive")
    if offset + size != central_end:
        raise _damaged(source, f"its central directory ({size} bytes at {offset}) does not end where the end record is")
    return entries, offset, central_end


def _entry(fd: int, view: bytes, position: int, file_size: int, central_offset: int,
           source: str) -> tuple[ZipRecord, int]:
    """One central directory entry checked against its local header and data descriptor."""
    if view[position:position + 4] != _CENTRAL:
        raise _damaged(source, f"central directory entry at byte {central_offset + position} has a bad signature")
    (_, _, flags, method, time, date, crc, size, raw_size, name_len, extra_len, comment_len, disk, _, _,
     header_offset) = struct.unpack_from("<HHHHHHIIIHHHHHII", view, position + 4)
    name_bytes = view[position + 46: position + 46 + name_len]
    extra = view[position + 46 + name_len: position + 46 + name_len + extra_len]
    end = position + 46 + name_len + extra_len + comment_len
    if end > len(view) or len(name_bytes) != name_len:
        raise _damaged(source, "the central directory is cut short")
    name = _name(name_bytes, source)
    zip64 = _extra_fields(extra, source, name)
    values = list(struct.unpack_from(f"<{len(zip64.get(_ZIP64_EXTRA, b'')) // 8}Q", zip64.get(_ZIP64_EXTRA, b"")))
    if raw_size == 0xFFFFFFFF and values:
        raw_size = values.pop(0)
    if size == 0xFFFFFFFF and values:
        size = values.pop(0)
    if header_offset == 0xFFFFFFFF and values:
        header_offset = values.pop(0)
    if flags & _ENCRYPTED:
        raise _damaged(source, f"record {name!r} is encrypted (torch never writes encrypted records)")
    if method != 0:
        raise _damaged(source, f"record {name!r} is compressed (method {method}); torch stores records uncompressed")
    if size != raw_size or disk != 0:
        raise _damaged(source, f"record {name!r} has inconsistent sizes in the central directory")
    if header_offset + 30 > central_offset:
        raise _damaged(source, f"record {name!r} points past the start of the central directory")
    local = _pread(fd, 30 + name_len, header_offset, source, f"the local header of {name!r}")
    (signature, _, local_flags, local_method, local_time, local_date, local_crc, local_size, local_raw,
     local_name_len, local_extra_len) = struct.unpack_from("<4sHHHHHIIIHH", local)
    if signature != _LOCAL:
        raise _damaged(source, f"the local header of record {name!r} (byte {header_offset}) has a bad signature")
    if local_name_len != name_len or local[30:30 + name_len] != name_bytes:
        raise _damaged(source, f"the local header at byte {header_offset} names another record than {name!r}")
    if (local_flags, local_method, local_time, local_date) != (flags, method, time, date):
        raise _damaged(source, f"the local header of record {name!r} disagrees with the central directory")
    local_extra = _pread(fd, local_extra_len, header_offset + 30 + name_len, source, f"the header of {name!r}")
    local_fields = _extra_fields(local_extra, source, name)
    data_offset = header_offset + 30 + name_len + local_extra_len
    data_end = data_offset + size
    if data_end > central_offset:
        raise _damaged(source, f"record {name!r} ({size} bytes at {data_offset}) runs into the central directory")
    record_end = data_end
    large = _ZIP64_EXTRA in zip64 or _ZIP64_EXTRA in local_fields
    if flags & _HAS_DESCRIPTOR:
        sizes_ok = local_size in (0, size, 0xFFFFFFFF) and local_raw in (0, size, 0xFFFFFFFF)
        if local_crc not in (0, crc) or not sizes_ok:
            raise _damaged(source, f"the local header of record {name!r} disagrees with the central directory")
        record_end = _descriptor(fd, data_end, crc, size, large, central_offset, source, name)
    elif (local_crc, local_size, local_raw) != (crc, size, size) and not (large and local_size == 0xFFFFFFFF):
        raise _damaged(source, f"the local header of record {name!r} disagrees with the central directory")
    return ZipRecord(name, header_offset, data_offset, size, crc, record_end), end


def _descriptor(fd: int, data_end: int, crc: int, size: int, large: bool, limit: int, source: str,
                name: str) -> int:
    """End of the data descriptor after a record; it must repeat the central directory's CRC and sizes."""
    raw = _pread(fd, min(24, max(0, limit - data_end)), data_end, source, f"the data descriptor of {name!r}")
    start = 4 if raw[:4] == _DESCRIPTOR else 0
    layouts = ("<IQQ", "<III") if large else ("<III", "<IQQ")
    for layout in layouts:
        length = struct.calcsize(layout)
        if start + length <= len(raw) and struct.unpack_from(layout, raw, start) == (crc, size, size):
            return data_end + start + length
    raise _damaged(source, f"the data descriptor after record {name!r} does not match the central directory")


def _extra_fields(extra: bytes, source: str, name: str) -> dict[int, bytes]:
    """The blocks of an extra field, which must exactly fill it; torch's padding must be intact."""
    fields: dict[int, bytes] = {}
    position = 0
    while position < len(extra):
        if position + 4 > len(extra):
            raise _damaged(source, f"the extra field of record {name!r} is malformed")
        header, length = struct.unpack_from("<HH", extra, position)
        data = extra[position + 4: position + 4 + length]
        if len(data) != length or header in fields:
            raise _damaged(source, f"the extra field of record {name!r} is malformed")
        if header == _TORCH_PADDING and data.strip(b"Z"):
            raise _damaged(source, f"the header padding of record {name!r} is damaged")
        fields[header] = data
        position += 4 + length
    return fields


def _name(raw: bytes, source: str) -> str:
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _damaged(source, f"a record name is not valid UTF-8 ({raw[:40]!r})") from None
    if not name or any(ord(ch) < 0x20 or ch == "\x7f" for ch in name):
        raise _damaged(source, f"a record name contains control characters ({name[:40]!r})")
    return name


def _pread(fd: int, size: int, offset: int, source: str, what: str) -> bytes:
    data = read_at(fd, size, offset) if size > 0 else b""
    if len(data) != size:
        raise _damaged(source, f"{what} lies beyond the end of the file")
    return data


def _damaged(source: str, detail: str) -> DamagedCheckpointError:
    return DamagedCheckpointError(
        f"{source} is a damaged zip archive: {detail}. It was changed on disk or in transfer; nothing was "
        "written. Use another copy of this checkpoint."
    )


# ---------------------------------------------------------------- CRCs


def check_crcs(fd: int, records: Iterable[ZipRecord], source: str, *, threads: int | None = None) -> None:
    """Raise :class:`DamagedCheckpointError` naming the first record whose data does not match its CRC-32.

    The file is memory-mapped (shared, read-only: nothing enters private memory) and the work is split
    into pieces computed in parallel (zlib releases the GIL), joined with :func:`crc32_combine`.
    """
    listed = list(records)
    todo = [r for r in listed if r.size]
    for record in [r for r in listed if not r.size]:
        if record.crc != 0:
            raise _crc_error(source, record, 0)
    if not todo:
        return
    actual = crcs_of(fd, [(r.data_offset, r.size) for r in todo], threads=threads)
    for record, crc in zip(todo, actual, strict=True):
        if crc != record.crc:
            raise _crc_error(source, record, crc)


def _crc_error(source: str, record: ZipRecord, found: int) -> DamagedCheckpointError:
    return DamagedCheckpointError(
        f"{source} is damaged: the data of record {record.name!r} ({record.size} bytes) does not match its "
        f"CRC-32 (recorded {record.crc:08x}, found {found:08x}). It was changed on disk or in transfer; nothing "
        "was written. Use another copy of this checkpoint."
    )


def crcs_of(fd: int, ranges: Sequence[tuple[int, int]], *, threads: int | None = None) -> list[int]:
    """CRC-32 of each (offset, size) range of the file open at ``fd``."""
    if not ranges:
        return []
    total = sum(size for _, size in ranges)
    workers = max(1, min(threads or os.cpu_count() or 1, 4, -(-total // (8 << 20))))
    pieces: list[tuple[int, int, int]] = []  # (range index, start, length)
    piece = max(1 << 20, min(_CRC_PIECE, -(-total // workers)))
    for index, (offset, size) in enumerate(ranges):
        pieces.extend((index, offset + start, min(piece, size - start)) for start in range(0, size, piece))
    results: list[int] = [0] * len(pieces)
    with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        try:
            if workers == 1:
                for i, (_, start, length) in enumerate(pieces):
                    results[i] = zlib.crc32(view[start:start + length])
            else:
                _parallel(view, pieces, results, workers)
        finally:
            view.release()
    crcs: list[int | None] = [None] * len(ranges)
    for (index, _, length), crc in zip(pieces, results, strict=True):
        previous = crcs[index]
        crcs[index] = crc if previous is None else crc32_combine(previous, crc, length)
    return [crc or 0 for crc in crcs]


def _parallel(view: memoryview, pieces: list[tuple[int, int, int]], results: list[int], workers: int) -> None:
    lock = threading.Lock()
    queue = list(range(len(pieces)))[::-1]
    failure: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                if not queue or failure:
                    return
                i = queue.pop()
            _, start, length = pieces[i]
            try:
                results[i] = zlib.crc32(view[start:start + length])
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)
                return

    helpers = [threading.Thread(target=work, name="crc32") for _ in range(workers - 1)]
    for helper in helpers:
        helper.start()
    try:
        work()
    finally:
        for helper in helpers:
            helper.join()
    if failure:
        raise failure[0]


def _gf2_times(matrix: Sequence[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


@functools.lru_cache(maxsize=64)
def _zeros_operator(length: int) -> tuple[int, ...]:
    """The GF(2) matrix that advances a CRC-32 register over ``length`` zero bytes."""
    power = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit
    for _ in range(3):  # one zero byte
        power = [_gf2_times(power, power[row]) for row in range(32)]
    result = [1 << n for n in range(32)]
    while length:
        if length & 1:
            result = [_gf2_times(power, result[row]) for row in range(32)]
        length >>= 1
        if length:
            power = [_gf2_times(power, power[row]) for row in range(32)]
    return tuple(result)


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """CRC-32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)`` (zlib's ``crc32_combine``,
    which Python's zlib module does not expose)."""
    if length2 <= 0:
        return crc1
    return _gf2_times(_zeros_operator(length2), crc1) ^ crc2
