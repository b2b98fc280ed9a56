"""read_zip_layout: the whole archive must add up; check_crcs / crc32_combine against zlib itself."""

import io
import os
import struct
import zlib

import pytest
import torch

import damaged_checkpoints as dc
from pfdtrain.checkpoint.errors import DamagedCheckpointError
from pfdtrain.migration.zip_records import check_crcs, crc32_combine, crcs_of, read_zip_layout

BARE = "bare_state_dict.pth"


def _layout(tmp_path, data):
    path = tmp_path / "archive.pth"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        return read_zip_layout(fd, str(path))
    finally:
        os.close(fd)


def test_a_torch_archive_is_read_record_by_record(tmp_path):
    data = dc.zoo_bytes(BARE)
    layout = _layout(tmp_path, data)
    expected = dc.members(data)  # offsets as the standard zipfile module reads them
    assert [r.name for r in layout.records] == [m.name.decode() for m in expected]
    assert [(r.data_offset, r.size) for r in layout.records] == [(m.data_offset, len(m.data)) for m in expected]
    assert all(r.data_offset % 64 == 0 for r in layout.records)  # torch aligns record data
    assert layout.prefix == "model/"


def test_files_torch_saves_now_pass_including_empty_and_big_records(tmp_path):
    buffer = io.BytesIO()
    torch.save({"empty": torch.zeros(0), "big": torch.ones(3 << 20), "bytes": torch.arange(7, dtype=torch.uint8)},
               buffer)
    layout = _layout(tmp_path, buffer.getvalue())
    assert {r.size for r in layout.records} >= {0, 12 << 20, 7}


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d + b"\x00", "no end-of-central-directory record"),
    (lambda d: d[:-1], "no end-of-central-directory record"),
    (lambda d: d + b"PK\x03\x04" + bytes(40), "no end-of-central-directory record"),
])
def test_anything_after_the_end_record_or_a_cut_end_is_truncation(tmp_path, damage, message):
    with pytest.raises(DamagedCheckpointError, match=message) as raised:
        _layout(tmp_path, damage(dc.zoo_bytes(BARE)))
    assert raised.value.kind == "truncated"


def _central(records, **changes):
    central = [(r.name, i) for i, r in enumerate(records)]
    if "rename" in changes:
        index = changes["rename"]
        central[index] = (central[index][0] + b"9", index)
    if "duplicate" in changes:
        central.append(central[changes["duplicate"]])
    if "swap" in changes:
        a, b = changes["swap"]
        central[a], central[b] = (central[a][0], b), (central[b][0], a)
    return central


@pytest.mark.parametrize(("change", "message"), [
    ({"duplicate": 4}, "listed twice"),
    ({"rename": 4}, "names another record"),
    ({"swap": (4, 5)}, "names another record"),
])
def test_central_directory_entries_must_match_their_local_headers(tmp_path, change, message):
    records = dc.members(dc.zoo_bytes(BARE))
    with pytest.raises(DamagedCheckpointError, match=message):
        _layout(tmp_path, dc.build_zip(records, central=_central(records, **change)))


def test_a_record_missing_from_the_directory_leaves_a_gap(tmp_path):
    records = dc.members(dc.zoo_bytes(BARE))
    central = [(r.name, i) for i, r in enumerate(records) if i != 5]
    with pytest.raises(DamagedCheckpointError, match="follows a gap"):
        _layout(tmp_path, dc.build_zip(records, central=central))


def test_damaged_padding_descriptor_and_compression_are_each_found(tmp_path):
    data = dc.zoo_bytes(BARE)
    record = next(m for m in dc.members(data) if m.name == b"model/data/1")
    padding = record.header_offset + 30 + len(record.name) + 4
    with pytest.raises(DamagedCheckpointError, match="padding of record 'model/data/1' is damaged"):
        _layout(tmp_path, dc.flip(data, padding))
    descriptor = record.data_offset + len(record.data) + 5  # inside the CRC it repeats
    with pytest.raises(DamagedCheckpointError, match="data descriptor after record 'model/data/1'"):
        _layout(tmp_path, dc.flip(data, descriptor))
    deflated = bytearray(data)
    deflated[record.header_offset + 8] = 8
    with pytest.raises(DamagedCheckpointError, match="disagrees with the central directory"):
        _layout(tmp_path, bytes(deflated))


def test_end_record_counts_and_offsets_must_agree(tmp_path):
    data = bytearray(dc.zoo_bytes(BARE))
    eocd = data.rfind(dc.EOCD)
    data[eocd + 8: eocd + 12] = struct.pack("<HH", 9, 9)
    with pytest.raises(DamagedCheckpointError, match="end record and zip64 end record disagree"):
        _layout(tmp_path, bytes(data))


def test_crcs_of_ranges_in_pieces_match_zlib(tmp_path):
    payload = os.urandom(3 << 20) + bytes(1000)
    path = tmp_path / "blob"
    path.write_bytes(payload)
    ranges = [(0, len(payload)), (7, 1 << 20), (5, 0), (len(payload) - 9, 9)]
    fd = os.open(path, os.O_RDONLY)
    try:
        assert crcs_of(fd, ranges, threads=3) == [zlib.crc32(payload[o:o + n]) for o, n in ranges]
    finally:
        os.close(fd)


@pytest.mark.parametrize("sizes", [(0, 5), (5, 0), (1, 1), (37, 70_001), (1 << 16, 12_345)])
def test_crc32_combine_is_the_crc_of_the_concatenation(sizes):
    first, second = os.urandom(sizes[0]), os.urandom(sizes[1])
    assert crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second)) == zlib.crc32(first + second)


def test_check_crcs_names_the_record_and_both_crcs(tmp_path):
    data = dc.zoo_bytes(BARE)
    record = next(m for m in dc.members(data) if m.name == b"model/data/2")
    path = tmp_path / "flipped.pth"
    path.write_bytes(dc.flip(data, record.data_offset))
    fd = os.open(path, os.O_RDONLY)
    try:
        layout = read_zip_layout(fd, str(path))
        with pytest.raises(DamagedCheckpointError) as raised:
            check_crcs(fd, layout.records, str(path))
    finally:
        os.close(fd)
    recorded = zlib.crc32(record.data)
    assert f"'model/data/2' (48 bytes) does not match its CRC-32 (recorded {recorded:08x}" in str(raised.value)
