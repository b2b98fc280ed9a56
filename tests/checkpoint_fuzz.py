"""Seeded damaged and hostile variants of the zoo, for the migrate-checkpoint fuzz test.

:func:`variants` returns the same list for the same seed: every class of damage the issue names
(truncations, byte flips by region, central-directory damage, impossible storage claims, odd storage
keys, payload pickles, deep nesting, shared-reference blow-ups, non-regular files). Each variant
writes itself into a folder; nothing here imports pfdtrain.
"""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import damaged_checkpoints as dc

ZIP_BASES = ("bare_state_dict.pth", "cnn_trainer_best_model.pth", "quantized_model_int8.pth",
             "train_cnn_script_best.pth", "checkpoint_manager_checkpoint.pth")
LEGACY_BASE = "legacy_nonzip_cnn_trainer_best_model.pth"
DEPTH = 100_000


@dataclass
class Variant:
    """One damaged input: ``kind`` is its class, ``make(folder)`` creates it as ``folder / name``."""

    name: str
    kind: str
    make: Callable[[Path], Path]
    regular: bool = True


def _file(name: str, kind: str, data: bytes) -> Variant:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return Variant(name, kind, make)


def _truncations(rng: random.Random, count: int) -> list[Variant]:
    out = []
    for i in range(count):
        base = rng.choice((*ZIP_BASES, LEGACY_BASE))
        data = dc.zoo_bytes(base)
        cut = rng.randrange(1, len(data))
        out.append(_file(f"trunc{i:03d}_{cut}_{base}", "truncation", data[:cut]))
    return out


def _flips(rng: random.Random, region: str, count: int) -> list[Variant]:
    out = []
    for i in range(count):
        base = rng.choice(ZIP_BASES)
        data = dc.zoo_bytes(base)
        offset = rng.choice(dc.regions(data)[region])
        mask = 1 << rng.randrange(8)
        out.append(_file(f"flip_{region}{i:03d}_{offset}_{base}", f"flip:{region}", dc.flip(data, offset, mask)))
    return out


def _legacy_flips(rng: random.Random, count: int) -> list[Variant]:
    data = dc.zoo_bytes(LEGACY_BASE)
    parts, _ = dc.legacy_parts(data)
    pickles_end = sum(map(len, parts))
    out = []
    for i in range(count):
        offset = rng.randrange(pickles_end, len(data)) if i % 2 else rng.randrange(0, pickles_end)
        mask = 1 << rng.randrange(8)
        out.append(_file(f"flip_legacy{i:03d}_{offset}.pth", "flip:legacy", dc.flip(data, offset, mask)))
    return out


def _central_damage(rng: random.Random, count: int) -> list[Variant]:
    makers: list[tuple[str, Callable[[str], bytes]]] = []

    def duplicate_entry(base: str) -> bytes:
        records = dc.members(dc.zoo_bytes(base))
        index = next(i for i, r in enumerate(records) if b"/data/" in r.name)
        central = [(r.name, i) for i, r in enumerate(records)] + [(records[index].name, index)]
        return dc.build_zip(records, central=central)

    def duplicate_record(base: str) -> bytes:
        records = dc.members(dc.zoo_bytes(base))
        index = next(i for i, r in enumerate(records) if b"/data/" in r.name)
        twin = dc.Member(records[index].name, bytes(len(records[index].data)))
        return dc.build_zip([*records, twin])

    def missing_record(base: str) -> bytes:
        records = dc.members(dc.zoo_bytes(base))
        storages = [i for i, r in enumerate(records) if b"/data/" in r.name]
        del records[rng.choice(storages)]
        return dc.build_zip(records)

    def renamed_in_central(base: str) -> bytes:
        records = dc.members(dc.zoo_bytes(base))
        index = next(i for i, r in enumerate(records) if b"/data/" in r.name)
        central = [(r.name if i != index else r.name + b"9", i) for i, r in enumerate(records)]
        return dc.build_zip(records, central=central)

    def swapped_offsets(base: str) -> bytes:
        records = dc.members(dc.zoo_bytes(base))
        storages = [i for i, r in enumerate(records) if b"/data/" in r.name]
        a, b = storages[0], storages[1]
        central = [(r.name, {a: b, b: a}.get(i, i)) for i, r in enumerate(records)]
        return dc.build_zip(records, central=central)

    def shifted_directory(base: str) -> bytes:
        data = bytearray(dc.zoo_bytes(base))
        eocd = data.rfind(dc.EOCD)
        offset = int.from_bytes(data[eocd + 16: eocd + 20], "little")
        data[eocd + 16: eocd + 20] = (offset + rng.choice((-46, -1, 1, 30))).to_bytes(4, "little")
        locator = data.rfind(dc.EOCD64)
        data[locator + 48: locator + 56] = (offset + 1).to_bytes(8, "little")
        return bytes(data)

    def wrong_count(base: str) -> bytes:
        data = bytearray(dc.zoo_bytes(base))
        eocd = data.rfind(dc.EOCD)
        count = int.from_bytes(data[eocd + 10: eocd + 12], "little")
        new = count + rng.choice((-1, 1))
        data[eocd + 8: eocd + 12] = new.to_bytes(2, "little") * 2
        record = data.rfind(dc.EOCD64)
        data[record + 24: record + 40] = new.to_bytes(8, "little") * 2
        return bytes(data)

    def trailing_garbage(base: str) -> bytes:
        return dc.zoo_bytes(base) + b"PK\x03\x04" + bytes(40)

    def compressed_record(base: str) -> bytes:
        data = bytearray(dc.zoo_bytes(base))
        records = dc.members(bytes(data))
        record = next(r for r in records if b"/data/" in r.name)
        data[record.header_offset + 8: record.header_offset + 10] = b"\x08\x00"
        central = data.find(dc.CENTRAL)
        while central != -1:
            name_len = int.from_bytes(data[central + 28: central + 30], "little")
            if bytes(data[central + 46: central + 46 + name_len]) == record.name:
                data[central + 10: central + 12] = b"\x08\x00"
            central = data.find(dc.CENTRAL, central + 4)
        return bytes(data)

    makers = [("dup_entry", duplicate_entry), ("dup_record", duplicate_record), ("missing", missing_record),
              ("renamed", renamed_in_central), ("swapped", swapped_offsets), ("shifted", shifted_directory),
              ("count", wrong_count), ("trailing", trailing_garbage), ("deflated", compressed_record)]
    out = []
    for i in range(count):
        label, maker = makers[i % len(makers)]
        base = rng.choice(ZIP_BASES)
        out.append(_file(f"central_{label}{i:03d}_{base}", "central-directory", maker(base)))
    return out


def _claims(rng: random.Random, count: int) -> list[Variant]:
    choices: list[tuple[str, dict]] = [
        ("x3", {"factor": 3}), ("plus1", {"delta": 1}), ("minus1", {"delta": -1}), ("zero", {"numel": 0}),
        ("2p31", {"numel": 2**31}), ("2p40", {"numel": 2**40}), ("2p62", {"numel": 2**62}), ("neg", {"numel": -1}),
        ("double", {"storage_type": b"torch\nDoubleStorage"}), ("half", {"storage_type": b"torch\nHalfStorage"}),
        ("bool", {"storage_type": b"torch\nBoolStorage"}),
    ]
    out = []
    for i in range(count):
        label, change = choices[i % len(choices)]
        legacy = i % 4 == 3
        base = LEGACY_BASE if legacy else rng.choice(ZIP_BASES)
        if legacy:
            parts, _ = dc.legacy_parts(dc.zoo_bytes(base))
            refs = dc.storage_refs(parts[3])
        else:
            refs = dc.storage_refs(dc.pickle_member(dc.members(dc.zoo_bytes(base))).data)
        index = rng.randrange(len(refs))
        kwargs = dict(change)
        if "factor" in kwargs:
            kwargs = {"numel": refs[index].numel * kwargs.pop("factor")}
        elif "delta" in kwargs:
            kwargs = {"numel": max(0, refs[index].numel + kwargs.pop("delta"))}
        build = dc.legacy_with_storage_change if legacy else dc.zip_with_storage_change
        out.append(_file(f"claim_{label}{i:03d}_{index}_{base}", "storage-claim", build(base, index, **kwargs)))
    return out


def _keys(rng: random.Random, count: int) -> list[Variant]:
    keys = ["0\x00", "1\x00junk", "\x001", "../0", "", " 1", "1 ", "/1", "\u0663", "data/1", "1/..", "99",
            "0", "1" * 300, "1\n", "\udcff"]
    out = []
    for i in range(count):
        key = keys[i % len(keys)]
        base = rng.choice(ZIP_BASES)
        refs = dc.storage_refs(dc.pickle_member(dc.members(dc.zoo_bytes(base))).data)
        index = rng.randrange(1, len(refs)) if len(refs) > 1 else 0
        if key == "0" and refs[index].key == "0":
            key = refs[-1].key if refs[-1].numel != refs[0].numel else "99"
        out.append(_file(f"key{i:03d}_{index}_{base}", "storage-key", dc.zip_with_storage_change(base, index, key=key)))
    return out


def _in_form(form: str, data: bytes) -> bytes:
    """A pickle as a zip checkpoint, a legacy (pre-1.6) torch file, or on its own."""
    if form == "zip":
        return dc.zip_with_object_pickle("bare_state_dict.pth", data)
    if form == "legacy":
        return dc.legacy_with_object_pickle(LEGACY_BASE, data)
    return data


def _pickles_in_every_form(kind: str, prefix: str, pickles: list[tuple[str, bytes]], count: int) -> list[Variant]:
    """``count`` variants cycling through ``pickles``, each next round in the next file form."""
    out = []
    for i in range(count):
        label, data = pickles[i % len(pickles)]
        form = ("zip", "legacy", "raw")[(i // len(pickles)) % 3]
        out.append(_file(f"{prefix}{i:03d}_{form}_{label}.pth", kind, _in_form(form, data)))
    return out


def _payloads(marker: Path, count: int) -> list[Variant]:
    return _pickles_in_every_form("payload", "payload", dc.payloads(marker), count)


def _nesting(count: int) -> list[Variant]:
    builders = [("list", dc.deep_list_pickle(DEPTH)), ("dict", dc.deep_dict_pickle(DEPTH)),
                ("tuple", dc.deep_tuple_pickle(DEPTH)), ("shared", dc.shared_blowup_pickle(80))]
    return _pickles_in_every_form("nesting", "deep", builders, count)


def _special(name: str, make: Callable[[Path], None]) -> Variant:
    def build(folder: Path) -> Path:
        path = folder / name
        make(path)
        return path

    return Variant(name, "non-regular", build, regular=False)


def _bind_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))


def non_regular() -> list[Variant]:
    """FIFOs, folders, links that loop or lead nowhere, devices and sockets, each named like a checkpoint."""
    return [
        _special("fifo.pth", lambda p: os.mkfifo(p)),
        _special("folder.pth", lambda p: p.mkdir()),
        _special("loop.pth", lambda p: p.symlink_to(p.name)),
        _special("dangling.pth", lambda p: p.symlink_to("nowhere.pth")),
        _special("devnull.pth", lambda p: p.symlink_to(os.devnull)),
        _special("socket.pth", _bind_socket),
        _special("fifo_link.pth", lambda p: (os.mkfifo(p.with_name("fifo_target")), p.symlink_to("fifo_target"))),
    ]


def variants(seed: int, marker: Path) -> list[Variant]:
    """315 variants: the same ones for the same seed (``marker`` is the file a payload would create)."""
    rng = random.Random(seed)
    found = (
        _truncations(rng, 57)
        + _flips(rng, "local_header", 20) + _flips(rng, "central_directory", 20) + _flips(rng, "record_data", 20)
        + _flips(rng, "pickle", 20) + _flips(rng, "descriptor", 10) + _flips(rng, "end_records", 10)
        + _legacy_flips(rng, 16)
        + _central_damage(rng, 27)
        + _claims(rng, 44)
        + _keys(rng, 32)
        + _payloads(marker, 20)
        + _nesting(12)
        + non_regular()
    )
    assert len({v.name for v in found}) == len(found)
    return found
