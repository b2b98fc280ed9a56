"""Build damaged and hostile checkpoint files for tests, from the zoo's good ones (importable: tests/ is on
pytest's pythonpath).

Everything here works on bytes with the standard library only (``zipfile`` to read names, our own
writer to lay out archives the way torch does): nothing from pfdtrain builds the damage that pfdtrain
must then detect. A torch zip checkpoint is a zip of stored records ``<archive>/data.pkl``,
``<archive>/data/<key>`` (tensor storages, each aligned to 64 bytes by a ``FB`` padding field in its
local header and followed by a data descriptor) and a few small records, closed by a zip64 end record.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zoo_manifest import ZOO

LOCAL, CENTRAL, DESCRIPTOR = b"PK\x03\x04", b"PK\x01\x02", b"PK\x07\x08"
EOCD, EOCD64, LOCATOR = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"
ALIGN = 64


@dataclass
class Member:
    """One record of an archive: its name, its bytes, and where it sits in the file it came from."""

    name: bytes
    data: bytes
    header_offset: int = 0
    data_offset: int = 0


def members(data: bytes) -> list[Member]:
    """The records of a zip file, in file order (names and offsets read with the standard ``zipfile``)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        found = []
        for info in archive.infolist():
            name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
            start = info.header_offset + 30 + name_len + extra_len
            found.append(Member(info.filename.encode("utf-8"), data[start: start + info.compress_size],
                                info.header_offset, start))
    return sorted(found, key=lambda m: m.header_offset)


def build_zip(records: list[Member], *, central: list[tuple[bytes, int]] | None = None) -> bytes:
    """An archive laid out as torch's writer lays it out (byte for byte, for torch's own files).

    ``central`` lists the central directory entries as (name, index of the record it points at); the
    default is one entry per record under its own name. Tests use it to make the two disagree.
    """
    out = bytearray()
    offsets = []
    for record in records:
        offsets.append(len(out))
        base = len(out) + 30 + len(record.name) + 4
        pad = (-base) % ALIGN
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        out += LOCAL + struct.pack("<HHHHHIIIHH", 0, 0x0808, 0, 0, 0, 0, 0, 0, len(record.name), len(extra))
        out += record.name + extra + record.data
        out += DESCRIPTOR + struct.pack("<III", zlib.crc32(record.data), len(record.data), len(record.data))
    start = len(out)
    entries = central if central is not None else [(r.name, i) for i, r in enumerate(records)]
    for name, index in entries:
        data = records[index].data
        out += CENTRAL + struct.pack("<HHHHHHIIIHHHHHII", 0, 0, 0x0808, 0, 0, 0, zlib.crc32(data), len(data),
                                     len(data), len(name), 0, 0, 0, 0, 0, offsets[index])
        out += name
    size = len(out) - start
    eocd64_at = len(out)
    out += EOCD64 + struct.pack("<QHHIIQQQQ", 44, 0x31E, 45, 0, 0, len(entries), len(entries), size, start)
    out += LOCATOR + struct.pack("<IQI", 0, eocd64_at, 1)
    out += EOCD + struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), size, start, 0)
    return bytes(out)


def zoo_bytes(name: str) -> bytes:
    return (ZOO / name).read_bytes()


def pickle_member(records: list[Member]) -> Member:
    return next(r for r in records if r.name.endswith(b"data.pkl"))


def with_pickle(data: bytes, new_pickle: bytes) -> bytes:
    """The archive rebuilt with ``data.pkl`` replaced (every CRC right: only the content is hostile)."""
    records = members(data)
    pickle_member(records).data = new_pickle
    return build_zip(records)


# ------------------------------------------------------------------ pickle surgery


@dataclass
class StorageRef:
    """A persistent id in a pickle: the op indices of its key and element count."""

    key: str
    key_op: int
    numel: int
    numel_op: int
    type_op: int


def _ops(data: bytes) -> list[tuple[str, object, int, bytes]]:
    """(opcode name, argument, position, raw bytes) of every op of the first pickle in ``data``."""
    found = [(op.name, arg, pos) for op, arg, pos in pickletools.genops(data)]
    ends = [pos for _, _, pos in found[1:]] + [found[-1][2] + 1]
    return [(name, arg, pos, data[pos:end]) for (name, arg, pos), end in zip(found, ends, strict=True)]


def storage_refs(data: bytes) -> list[StorageRef]:
    """Every ``('storage', type, key, location, numel[, view])`` tuple just before a BINPERSID."""
    ops = _ops(data)
    refs = []
    for index, (name, _, _, _) in enumerate(ops):
        if name != "BINPERSID":
            continue
        end = index - 1
        while ops[end][0] in ("BINPUT", "LONG_BINPUT", "MEMOIZE"):
            end -= 1
        assert ops[end][0] == "TUPLE", ops[end]
        start = end - 1
        while ops[start][0] != "MARK":
            start -= 1
        items = [i for i in range(start + 1, end) if ops[i][0] not in ("BINPUT", "LONG_BINPUT", "MEMOIZE")]
        key_op, numel_op = items[2], items[4]
        key = ops[key_op][1] if ops[key_op][0] != "BINGET" else None
        refs.append(StorageRef(str(key), key_op, int(ops[numel_op][1]), numel_op, items[1]))
    return refs


def encode_int(value: int) -> bytes:
    if 0 <= value < 256:
        return b"K" + bytes([value])
    if -(2**31) <= value < 2**31:
        return b"J" + struct.pack("<i", value)
    raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def encode_str(value: str) -> bytes:
    raw = value.encode("utf-8", "surrogatepass")
    return b"X" + struct.pack("<I", len(raw)) + raw


def rewrite_ops(data: bytes, replacements: dict[int, bytes]) -> bytes:
    """The pickle with the raw bytes of some ops replaced (memo indices are absolute, so they stay right)."""
    ops = _ops(data)
    out = b"".join(replacements.get(i, raw) for i, (_, _, _, raw) in enumerate(ops))
    return out + data[ops[-1][2] + 1:]


def change_storage(pickle_bytes: bytes, index: int, *, numel: int | None = None, key: str | None = None,
                   storage_type: bytes | None = None) -> bytes:
    """The pickle with storage reference ``index`` claiming another element count, key or storage type."""
    ref = storage_refs(pickle_bytes)[index]
    changes = {}
    if numel is not None:
        changes[ref.numel_op] = encode_int(numel)
    if key is not None:
        changes[ref.key_op] = encode_str(key)
    if storage_type is not None:
        changes[ref.type_op] = b"c" + storage_type + b"\n"
    return rewrite_ops(pickle_bytes, changes)


def zip_with_storage_change(name: str, index: int, *, numel: int | None = None, key: str | None = None,
                            storage_type: bytes | None = None) -> bytes:
    data = zoo_bytes(name)
    records = members(data)
    member = pickle_member(records)
    member.data = change_storage(member.data, index, numel=numel, key=key, storage_type=storage_type)
    return build_zip(records)


# ------------------------------------------------------------------ legacy (non-zip) files


def legacy_parts(data: bytes) -> tuple[list[bytes], bytes]:
    """The five pickles of a legacy torch file and the raw storage section after them."""
    stream = io.BytesIO(data)
    parts = []
    for _ in range(5):
        start = stream.tell()
        for _op in pickletools.genops(stream):
            pass
        parts.append(data[start:stream.tell()])
    return parts, data[stream.tell():]


def legacy_with_storage_change(name: str, index: int, *, numel: int | None = None, key: str | None = None,
                               storage_type: bytes | None = None) -> bytes:
    parts, raw = legacy_parts(zoo_bytes(name))
    parts[3] = change_storage(parts[3], index, numel=numel, key=key, storage_type=storage_type)
    return b"".join(parts) + raw


# ------------------------------------------------------------------ hostile pickles


class Payload:
    """Unpickling this calls ``reducer(*args)``: in a test it would create ``marker`` (it must never run)."""

    def __init__(self, reducer: Callable[..., object], args: tuple) -> None:
        self.reducer, self.args = reducer, args

    def __reduce__(self) -> tuple:
        return self.reducer, self.args


def payloads(marker: Path) -> list[tuple[str, bytes]]:
    """Pickles that would create ``marker`` if anything ran them (several ways of calling code)."""
    import builtins
    import subprocess

    code = f"open({str(marker)!r}, 'w').close()"
    calls = {
        "exec": Payload(builtins.exec, (code,)),
        "eval": Payload(builtins.eval, (f"__import__('builtins').exec({code!r})",)),
        "os_system": Payload(os.system, (f"touch {marker}",)),
        "subprocess": Payload(subprocess.call, (["touch", str(marker)],)),
        "path_touch": Payload(Path.touch, (marker,)),
    }
    out = []
    for label, payload in calls.items():
        out.append((label, pickle.dumps(payload, protocol=2)))
        out.append((f"{label}_in_state_dict", pickle.dumps({"model_state_dict": {"w": payload}}, protocol=2)))
    return out


def deep_list_pickle(depth: int) -> bytes:
    """``[[[...]]]`` nested ``depth`` levels: ``depth`` empty lists, each appended to the one below."""
    return b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."


def deep_dict_pickle(depth: int) -> bytes:
    """``{"a": {"a": ...}}`` nested ``depth`` levels: every dict and key pushed first, then SETITEMs."""
    key_first, key_again = b"X\x01\x00\x00\x00aq\x00", b"h\x00"
    return b"\x80\x02}" + key_first + b"}" + (key_again + b"}") * (depth - 2) + b"s" * (depth - 1) + b"."


def deep_tuple_pickle(depth: int) -> bytes:
    """``((((0,),),),)`` nested ``depth`` levels with TUPLE1: the stack never grows."""
    return b"\x80\x02K\x00" + b"\x85" * depth + b"."


def shared_blowup_pickle(levels: int) -> bytes:
    """``a1 = [a0, a0]``, ``a2 = [a1, a1]``, ...: ``levels`` lists that expand to ``2**levels`` leaves."""
    out = bytearray(b"\x80\x02K\x00q\x00")
    for level in range(1, levels + 1):
        out += b"(h" + bytes([level - 1]) + b"h" + bytes([level - 1]) + b"lq" + bytes([level])
    return bytes(out + b".")


def legacy_with_object_pickle(name: str, new_pickle: bytes) -> bytes:
    parts, _ = legacy_parts(zoo_bytes(name))
    parts[3] = new_pickle
    parts[4] = pickle.dumps([], protocol=2)
    return b"".join(parts[:5])


def zip_with_object_pickle(name: str, new_pickle: bytes) -> bytes:
    records = [m for m in members(zoo_bytes(name)) if b"/data/" not in m.name]
    pickle_member(records).data = new_pickle
    return build_zip(records)


# ------------------------------------------------------------------ regions, for byte flips


def regions(data: bytes) -> dict[str, list[int]]:
    """Offsets by kind: local headers, record data, data.pkl, descriptors, central directory, end records."""
    found: dict[str, list[int]] = {k: [] for k in ("local_header", "record_data", "pickle", "descriptor",
                                                    "central_directory", "end_records")}
    records = members(data)
    for record in records:
        target = "pickle" if record.name.endswith(b"data.pkl") else "record_data"
        found["local_header"] += range(record.header_offset, record.data_offset)
        found[target] += range(record.data_offset, record.data_offset + len(record.data))
        end = record.data_offset + len(record.data)
        found["descriptor"] += range(end, end + 16)
    central = data.rfind(EOCD64) if EOCD64 in data else data.rfind(EOCD)
    first_central = data.find(CENTRAL)
    found["central_directory"] += range(first_central, central)
    found["end_records"] += range(central, len(data))
    return found


def flip(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    out = bytearray(data)
    out[offset] ^= mask
    return bytes(out)
