"""Check a checkpoint file before torch reads any of it: every storage against its record, and the pickle's shape.

torch's memory-mapped reader (what a 1 GB migration needs) trusts the pickle: a storage that claims
12 elements where its record holds 4 reads 32 bytes of zip headers as weights; a key ``"0\\x00"`` is
cut at the NUL and silently reads ``data/0``; a claim of 2**62 elements asks for exabytes. Here,
with nothing unpickled (the pickle is read by :mod:`~pfdtrain.migration.skeleton`'s container-only
stack machine):

* a zip file must pass :func:`~pfdtrain.migration.zip_records.read_zip_layout`, its ``data.pkl``
  must match its CRC-32, and every storage the pickle names must be exactly one record
  ``<archive>/data/<key>`` (a plain key), with ``size == numel * element size`` of its dtype;
* a legacy (non-zip) torch file must consist of its five pickles and then, for every key they
  list, an element count equal to the claim followed by exactly that many bytes, up to the end;
* the pickle must be a tree of sane shape: at most :data:`MAX_DEPTH` levels, no container that
  contains itself, and no shared references that multiply into millions of values.

CRCs of the other records are checked too; in write modes the big storage records are left to the
write, which proves them on the way (see :mod:`~pfdtrain.migration.verify`).
"""

from __future__ import annotations

import io
import os
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from pfdtrain.checkpoint.diagnose import ZIP_MAGIC
from pfdtrain.checkpoint.errors import DamagedCheckpointError
from pfdtrain.checkpoint.regular_file import open_regular, read_at
from pfdtrain.migration.skeleton import global_name, interpret_pickle, tree_shape
from pfdtrain.migration.zip_records import ZipLayout, ZipRecord, check_crcs, read_zip_layout

#: Deeper than any checkpoint nests (a few levels), shallow enough for recursive code (limit 1000).
MAX_DEPTH = 200
#: Storage records from this size on are CRC-checked by the write that copies them (``crc="large-later"``).
LARGE_RECORD = 4 << 20
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_STORAGE_MODULES = ("torch", "torch.storage", "torch.cuda")
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_STORAGE_DTYPES: dict[str, torch.dtype] = {
    "DoubleStorage": torch.float64, "FloatStorage": torch.float32, "HalfStorage": torch.float16,
    "LongStorage": torch.int64, "IntStorage": torch.int32, "ShortStorage": torch.int16,
    "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
    "BFloat16Storage": torch.bfloat16, "ComplexDoubleStorage": torch.complex128,
    "ComplexFloatStorage": torch.complex64, "QInt8Storage": torch.qint8, "QInt32Storage": torch.qint32,
    "QUInt8Storage": torch.quint8, "QUInt4x2Storage": torch.quint4x2, "QUInt2x4Storage": torch.quint2x4,
    "UntypedStorage": torch.uint8,
}


@dataclass(frozen=True)
class StorageClaim:
    """What the pickle says about one storage: ``numel`` elements of ``dtype`` under ``key``."""

    key: str
    dtype: torch.dtype
    numel: int

    @property
    def nbytes(self) -> int:
        return self.numel * self.dtype.itemsize


@dataclass
class SourceCheck:
    """A file that passed :func:`check_source`, with what later steps need to know about it."""

    path: Path
    serialization: str  # torch_zip | torch_legacy | pickle
    size: int
    identity: tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns: the file that was checked
    layout: ZipLayout | None = None
    byteorder: str | None = None
    claims: dict[str, StorageClaim] = field(default_factory=dict)
    #: Storage records whose CRC-32 was not checked yet (``crc="large-later"``): the write proves them.
    unchecked: list[ZipRecord] = field(default_factory=list)

    @property
    def copyable(self) -> bool:
        """Storage records may be copied byte for byte: a zip in this machine's byte order."""
        import sys

        return self.layout is not None and (self.byteorder or "little") == sys.byteorder

    def storage_records(self) -> dict[str, ZipRecord]:
        """Key -> record, for every storage the pickle names (zip files)."""
        if self.layout is None:
            return {}
        prefix = self.layout.prefix
        return {key: self.layout.by_name[f"{prefix}data/{key}"] for key in self.claims}


def check_source(path: str | os.PathLike[str], *, crc: str = "all") -> SourceCheck:
    """Check ``path`` (see the module docstring); raise a CheckpointFormatError subclass naming the problem.

    ``crc``: ``"all"`` records, ``"large-later"`` (all but storage records of :data:`LARGE_RECORD`
    bytes or more, listed in ``unchecked``), or ``"pickle"`` (only ``data.pkl``, which is parsed).
    Non-checkpoint files (empty, text, LFS pointers...) are left for ``inspect_file`` to name.
    """
    file = Path(path)
    fd = open_regular(file)
    try:
        info = os.fstat(fd)
        identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        head = read_at(fd, 64, 0)
        check = SourceCheck(file, "unknown", info.st_size, identity)
        if head.startswith(ZIP_MAGIC):
            check.serialization = "torch_zip"
            _check_zip(fd, check, crc)
        elif head[:1] == b"\x80":
            _check_pickles(fd, check)
        return check
    finally:
        os.close(fd)


def check_unchecked(check: SourceCheck, proven: Iterable[int] = ()) -> None:
    """CRC-check the storage records left unchecked, except those whose data offset is in ``proven``."""
    done = set(proven)
    rest = [r for r in check.unchecked if r.data_offset not in done]
    if rest:
        fd = open_regular(check.path)
        try:
            _same_file(fd, check)
            check_crcs(fd, rest, str(check.path))
        finally:
            os.close(fd)
    check.unchecked = []


def _same_file(fd: int, check: SourceCheck) -> None:
    info = os.fstat(fd)
    if (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns) != check.identity:
        raise DamagedCheckpointError(f"{check.path} changed while it was being migrated; run again once nothing "
                                     "else writes to it")


# ---------------------------------------------------------------- zip files


def _check_zip(fd: int, check: SourceCheck, crc: str) -> None:
    source = str(check.path)
    layout = read_zip_layout(fd, source)
    check.layout = layout
    prefix = layout.prefix
    pickled = layout.by_name.get(f"{prefix}data.pkl")
    if pickled is None:
        raise DamagedCheckpointError(f"{source} is a zip archive without {prefix}data.pkl: not a torch checkpoint",
                                     kind="not-a-checkpoint")
    check_crcs(fd, [pickled], source)
    storages: list[Any] = []
    obj = _interpret(io.BytesIO(read_at(fd, pickled.size, pickled.data_offset)), storages, source, "data.pkl")
    _check_tree(obj, source)
    check.claims = _claims(storages, source, length=5)
    for claim in check.claims.values():
        name = f"{prefix}data/{claim.key}"
        record = layout.by_name.get(name)
        if record is None:
            raise DamagedCheckpointError(f"{source} is damaged: the pickle names storage {claim.key!r}, but the "
                                         f"archive has no record {name!r}. Use another copy of this checkpoint.")
        if record.size != claim.nbytes:
            raise DamagedCheckpointError(
                f"{source} is damaged: storage {claim.key!r} claims {claim.numel} {_dtype(claim.dtype)} elements "
                f"({claim.nbytes} bytes) but its record {name!r} holds {record.size} bytes. Reading it would "
                "mix other bytes of the file into the weights; use another copy of this checkpoint."
            )
    storage_names = {f"{prefix}data/{key}" for key in check.claims}
    later = [r for r in layout.records if r.name in storage_names and r.size >= LARGE_RECORD]
    if crc == "pickle":
        rest: list[ZipRecord] = []
        check.unchecked = [r for r in layout.records if r is not pickled]
    elif crc == "large-later":
        rest = [r for r in layout.records if r is not pickled and r not in later]
        check.unchecked = later
    else:
        rest = [r for r in layout.records if r is not pickled]
    check_crcs(fd, rest, source)
    order = layout.by_name.get(f"{prefix}byteorder")
    if order is not None:
        text = read_at(fd, min(order.size, 16), order.data_offset)
        if text not in (b"little", b"big"):
            raise DamagedCheckpointError(f"{source} is damaged: its byteorder record holds {text!r}")
        check.byteorder = text.decode("ascii")


# ---------------------------------------------------------------- legacy and raw pickle files


def _check_pickles(fd: int, check: SourceCheck) -> None:
    """A legacy torch file (magic number, protocol, system info, object, storage keys, raw storages)
    or a raw pickle; only the shapes are checked here, torch (still weights-only) judges the rest."""
    source = str(check.path)
    with os.fdopen(os.dup(fd), "rb") as handle:
        first = _interpret(handle, None, source, "the first pickle")
        if first != _LEGACY_MAGIC:
            check.serialization = "pickle"
            _check_tree(first, source)
            return
        check.serialization = "torch_legacy"
        protocol = _interpret(handle, None, source, "the protocol pickle")
        if protocol != _LEGACY_PROTOCOL:
            raise DamagedCheckpointError(f"{source} is damaged: legacy protocol version {protocol!r}, expected "
                                         f"{_LEGACY_PROTOCOL}")
        _interpret(handle, None, source, "the system-information pickle")
        storages: list[Any] = []
        obj = _interpret(handle, storages, source, "the object pickle")
        _check_tree(obj, source)
        keys = _interpret(handle, None, source, "the storage-key pickle")
        position = handle.tell()
    check.claims = _claims(storages, source, length=6)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or len(set(keys)) != len(keys):
        raise DamagedCheckpointError(f"{source} is damaged: its list of storage keys is not a list of distinct keys")
    if set(keys) != set(check.claims):
        missing = sorted(set(check.claims) - set(keys)) or sorted(set(keys) - set(check.claims))
        raise DamagedCheckpointError(f"{source} is damaged: its storage keys and the storages its pickle names "
                                     f"differ (e.g. {missing[0]!r})")
    for key in keys:
        claim = check.claims[key]
        header = read_at(fd, 8, position)
        if len(header) < 8:
            raise _legacy_truncated(source, check.size)
        numel = struct.unpack("<q", header)[0]
        if numel != claim.numel:
            raise DamagedCheckpointError(
                f"{source} is damaged: storage {key!r} claims {claim.numel} {_dtype(claim.dtype)} elements but "
                f"the file stores {numel} there. Use another copy of this checkpoint."
            )
        position += 8 + claim.nbytes
        if position > check.size:
            raise _legacy_truncated(source, check.size)
    if position != check.size:
        raise DamagedCheckpointError(f"{source} is damaged: {check.size - position} unexplained bytes follow "
                                     "its last storage")


def _legacy_truncated(source: str, size: int) -> DamagedCheckpointError:
    return DamagedCheckpointError(
        f"{source} is a legacy (non-zip) torch file that ends early ({size} bytes): an interrupted save or an "
        "incomplete copy. Use another copy of this checkpoint.", kind="truncated")


# ---------------------------------------------------------------- shared checks


def _interpret(handle: Any, storages: list[Any] | None, source: str, what: str) -> Any:
    try:
        obj, _ = interpret_pickle(handle, storages)
    except Exception as exc:
        truncated = isinstance(exc, EOFError) or any(sign in str(exc) for sign in ("EOF", "STOP", "not enough data"))
        raise DamagedCheckpointError(
            f"{source}: {what} {'ends early' if truncated else 'is damaged'} ({type(exc).__name__}: "
            f"{str(exc)[:120]}); an interrupted save, an incomplete copy or damage on disk.",
            kind="truncated" if truncated else "damaged",
        ) from None
    return obj


def _check_tree(obj: Any, source: str) -> None:
    shape = tree_shape(obj)
    if shape.cyclic:
        raise DamagedCheckpointError(f"{source} holds a container that contains itself (a reference cycle): a "
                                     "checkpoint is a tree of plain values. Nothing was loaded.", kind="malformed")
    if shape.depth > MAX_DEPTH:
        raise DamagedCheckpointError(f"{source} nests values {shape.depth} levels deep; checkpoints nest a few "
                                     f"levels (the limit is {MAX_DEPTH}). Nothing was loaded.", kind="malformed")
    if shape.expanded > 100 * shape.containers + 100_000:
        raise DamagedCheckpointError(
            f"{source} holds {shape.containers} containers whose shared references multiply into "
            f"{shape.expanded:.3g} values: not a checkpoint (a 'billion laughs' pickle). Nothing was loaded.",
            kind="malformed")


def _claims(pids: list[Any], source: str, *, length: int) -> dict[str, StorageClaim]:
    claims: dict[str, StorageClaim] = {}
    for pid in pids:
        claim = _claim(pid, source, length)
        known = claims.setdefault(claim.key, claim)
        if known != claim:
            raise DamagedCheckpointError(
                f"{source} is damaged: storage {claim.key!r} is claimed as {known.numel} {_dtype(known.dtype)} and "
                f"as {claim.numel} {_dtype(claim.dtype)} elements"
            )
    return claims


def _claim(pid: Any, source: str, length: int) -> StorageClaim:
    if not isinstance(pid, tuple) or len(pid) != length or pid[0] not in ("storage", b"storage"):
        raise DamagedCheckpointError(f"{source} is damaged: a storage reference in its pickle is malformed "
                                     f"({_short(pid)})")
    type_name = global_name(pid[1]) or ""
    module, _, storage_type = type_name.rpartition(".")
    dtype = _STORAGE_DTYPES.get(storage_type) if module in _STORAGE_MODULES else None
    key, location, numel = pid[2], pid[3], pid[4]
    if dtype is None:
        raise DamagedCheckpointError(f"{source} is damaged: unknown storage type {type_name or _short(pid[1])!r}")
    if not isinstance(key, str) or not _KEY.fullmatch(key) or set(key) == {"."}:
        raise DamagedCheckpointError(
            f"{source} is damaged: storage key {_short(key)} is not a plain record name (torch writes digits). "
            "torch would read another record, or none, in its place; use another copy of this checkpoint."
        )
    if not isinstance(location, str) or not isinstance(numel, int) or isinstance(numel, bool) or numel < 0:
        raise DamagedCheckpointError(f"{source} is damaged: storage {key!r} has an impossible location or element "
                                     f"count ({_short(location)}, {_short(numel)})")
    if numel > 1 << 48:
        raise DamagedCheckpointError(f"{source} is damaged: storage {key!r} claims {numel} elements, more than any "
                                     "machine holds. Use another copy of this checkpoint.")
    if length == 6 and pid[5] is not None:
        view = pid[5]
        if (not isinstance(view, tuple) or len(view) != 3 or not all(isinstance(v, int) for v in view[1:])
                or view[1] < 0 or view[2] < 0 or view[1] + view[2] > numel):
            raise DamagedCheckpointError(f"{source} is damaged: a view of storage {key!r} lies outside it")
    return StorageClaim(key, dtype, numel)


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
