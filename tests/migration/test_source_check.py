"""check_source: every storage against its record, the pickle's shape, CRCs; before torch reads anything.

The damaged files are built here from the zoo (tests/damaged_checkpoints.py works on bytes with the
standard library only); the expectations are what plain ``torch.load(weights_only=True)`` says of them
or what the file format requires, never what pfdtrain computes.
"""

import io
import pickle
import struct

import pytest
import torch

import damaged_checkpoints as dc
from pfdtrain.checkpoint.errors import DamagedCheckpointError
from pfdtrain.migration.source_check import LARGE_RECORD, MAX_DEPTH, check_source, check_unchecked
from zoo_manifest import CORRUPT, LOADABLE, MUST_REFUSE, ZOO

BARE = "bare_state_dict.pth"  # conv.weight (20), conv.bias (4), fc.weight (12), fc.bias (3) float32
LEGACY = "legacy_nonzip_cnn_trainer_best_model.pth"


def _file(tmp_path, data, name="variant.pth"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _torch_refuses(path):
    try:
        torch.load(path, weights_only=True)
    except Exception as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("name", sorted(n for n in set(LOADABLE + MUST_REFUSE) if dc.zoo_bytes(n)[:2] == b"PK"))
def test_every_zip_file_of_the_zoo_passes_with_every_crc_checked(name):
    checked = check_source(ZOO / name, crc="all")
    assert checked.serialization == "torch_zip" and checked.unchecked == []
    assert checked.claims  # every file of the zoo holds tensors


def test_the_legacy_file_passes_and_its_storages_are_counted():
    checked = check_source(ZOO / LEGACY)
    assert checked.serialization == "torch_legacy"
    parts, _ = dc.legacy_parts(dc.zoo_bytes(LEGACY))
    assert len(checked.claims) == len(dc.storage_refs(parts[3])) == 16


def test_a_storage_claiming_more_elements_than_its_record_holds_is_named(tmp_path):
    """The issue's first example: conv.bias claims 12 elements, its record holds 16 bytes (4 floats)."""
    path = _file(tmp_path, dc.zip_with_storage_change(BARE, 1, numel=12))
    assert "record size (16 bytes) does not match expected size (48 bytes" in _torch_refuses(path)
    with pytest.raises(DamagedCheckpointError) as raised:
        check_source(path)
    assert raised.value.kind == "damaged"
    assert "storage '1' claims 12 float32 elements (48 bytes)" in str(raised.value)
    assert "'model/data/1' holds 16 bytes" in str(raised.value)


@pytest.mark.parametrize("numel", [0, 3, 5, 2**31, 2**40, 2**62])
def test_impossible_element_counts_are_refused(tmp_path, numel):
    path = _file(tmp_path, dc.zip_with_storage_change(BARE, 1, numel=numel))
    assert _torch_refuses(path) is not None
    with pytest.raises(DamagedCheckpointError, match="storage '1'"):
        check_source(path)


def test_a_negative_count_and_another_dtype_are_refused(tmp_path):
    negative = _file(tmp_path, dc.zip_with_storage_change(BARE, 1, numel=-1), "negative.pth")
    double = _file(tmp_path, dc.zip_with_storage_change(BARE, 1, storage_type=b"torch\nDoubleStorage"), "double.pth")
    with pytest.raises(DamagedCheckpointError, match="impossible location or element count"):
        check_source(negative)
    assert _torch_refuses(double) is not None
    with pytest.raises(DamagedCheckpointError, match=r"claims 4 float64 elements \(32 bytes\)"):
        check_source(double)


@pytest.mark.parametrize("key", ["0\x00", "1\x00junk", "../0", "", " 1", "/1", "\u0663", "1/..", "1\n", "data/1"])
def test_storage_keys_that_are_not_plain_record_names_are_refused(tmp_path, key):
    """``"0\\x00"``: the NUL ends the name in torch's C++ lookup, which then silently reads data/0."""
    path = _file(tmp_path, dc.zip_with_storage_change(BARE, 1, key=key))
    with pytest.raises(DamagedCheckpointError, match="is not a plain record name"):
        check_source(path)


def test_the_nul_key_reads_another_storage_through_torchs_memory_map(tmp_path):
    """Why the check exists: torch's mmap reader gives conv.bias the first 4 floats of data/0."""
    path = _file(tmp_path, dc.zip_with_storage_change(BARE, 1, key="0\x00", numel=20))
    mapped = torch.load(path, weights_only=True, mmap=True)
    original = torch.load(ZOO / BARE, weights_only=True)
    assert torch.equal(mapped["conv.bias"], original["conv.weight"].reshape(-1)[:4])
    with pytest.raises(DamagedCheckpointError):
        check_source(path)


def test_a_key_naming_a_missing_record_is_refused(tmp_path):
    path = _file(tmp_path, dc.zip_with_storage_change(BARE, 1, key="99"))
    with pytest.raises(DamagedCheckpointError, match="has no record 'model/data/99'"):
        check_source(path)


def test_one_storage_claimed_with_two_sizes_is_refused(tmp_path):
    # data/1 holds 4 floats; a second reference calls it data/0 (80 bytes) with 4 elements
    path = _file(tmp_path, dc.zip_with_storage_change(BARE, 1, key="0"))
    with pytest.raises(DamagedCheckpointError, match="storage '0' is claimed as 20 float32 and as 4"):
        check_source(path)


def test_a_flipped_byte_in_storage_data_fails_its_crc_although_torch_reads_it(tmp_path):
    data = dc.zoo_bytes(BARE)
    record = next(m for m in dc.members(data) if m.name == b"model/data/0")
    path = _file(tmp_path, dc.flip(data, record.data_offset + 5, 0x40))
    assert _torch_refuses(path) is None  # torch never checks CRCs
    with pytest.raises(DamagedCheckpointError, match=r"data of record 'model/data/0' \(80 bytes\) does not match"):
        check_source(path)


def test_a_flipped_byte_in_the_pickle_fails_its_crc(tmp_path):
    data = dc.zoo_bytes(BARE)
    record = dc.pickle_member(dc.members(data))
    path = _file(tmp_path, dc.flip(data, record.data_offset + 40))
    assert next(iter(torch.load(path, weights_only=True))) == "cnnv.weight"  # torch reads a renamed key
    with pytest.raises(DamagedCheckpointError, match=r"'model/data\.pkl'"):
        check_source(path, crc="pickle")


def test_a_damaged_local_header_signature_is_refused_with_the_data_intact(tmp_path):
    data = dc.zoo_bytes(BARE)
    record = next(m for m in dc.members(data) if m.name == b"model/data/1")
    path = _file(tmp_path, dc.flip(data, record.header_offset + 1))
    assert _torch_refuses(path) is not None
    with pytest.raises(DamagedCheckpointError, match=r"local header of record 'model/data/1' .* bad signature"):
        check_source(path)


def test_large_storage_records_can_be_left_to_the_write_and_checked_later(tmp_path):
    path = tmp_path / "big.pth"
    torch.save({"model_state_dict": {"w": torch.arange(LARGE_RECORD // 4, dtype=torch.float32), "b": torch.ones(3)}},
               path)
    data = path.read_bytes()
    big = next(m for m in dc.members(data) if len(m.data) >= LARGE_RECORD)
    path.write_bytes(dc.flip(data, big.data_offset + 123))
    later = check_source(path, crc="large-later")  # the small records all check out
    assert [r.name for r in later.unchecked] == [big.name.decode()]
    with pytest.raises(DamagedCheckpointError, match="does not match its CRC-32"):
        check_unchecked(later)
    check_unchecked(later, proven=[big.data_offset])  # a write that proved it leaves nothing to do
    with pytest.raises(DamagedCheckpointError):
        check_source(path, crc="all")


@pytest.mark.parametrize("build", [dc.deep_list_pickle, dc.deep_dict_pickle, dc.deep_tuple_pickle])
@pytest.mark.parametrize("form", ["zip", "legacy", "raw"])
def test_100000_levels_of_nesting_are_refused_without_recursion(tmp_path, build, form):
    raw = build(100_000)
    content = {"zip": lambda: dc.zip_with_object_pickle(BARE, raw),
               "legacy": lambda: dc.legacy_with_object_pickle(LEGACY, raw), "raw": lambda: raw}[form]()
    with pytest.raises(DamagedCheckpointError, match=f"nests values 100000 levels deep.*limit is {MAX_DEPTH}") as e:
        check_source(_file(tmp_path, content))
    assert e.value.kind == "malformed"


def test_shared_references_that_multiply_are_refused(tmp_path):
    path = _file(tmp_path, dc.zip_with_object_pickle(BARE, dc.shared_blowup_pickle(80)))
    with pytest.raises(DamagedCheckpointError, match="billion laughs"):
        check_source(path)


def test_a_container_that_contains_itself_is_refused(tmp_path):
    looped: list = []
    looped.append(looped)
    path = _file(tmp_path, dc.zip_with_object_pickle(BARE, pickle.dumps({"model_state_dict": looped}, protocol=2)))
    with pytest.raises(DamagedCheckpointError, match="contains itself"):
        check_source(path)


def test_nesting_within_the_limit_passes(tmp_path):
    value: object = 1.0
    for _ in range(MAX_DEPTH - 1):
        value = [value]
    path = _file(tmp_path, dc.zip_with_object_pickle(BARE, pickle.dumps({"history": value}, protocol=2)))
    check_source(path)


@pytest.mark.parametrize("change", [{"numel": 21}, {"numel": 2**62}, {"key": "00000000000099"}])
def test_legacy_files_whose_storage_section_disagrees_are_refused(tmp_path, change):
    path = _file(tmp_path, dc.legacy_with_storage_change(LEGACY, 0, **change))
    assert _torch_refuses(path) is not None
    with pytest.raises(DamagedCheckpointError):
        check_source(path)


def test_a_truncated_legacy_file_is_named_truncated(tmp_path):
    data = dc.zoo_bytes(LEGACY)
    for cut in (len(data) - 1, len(data) - 300, 2600):
        with pytest.raises(DamagedCheckpointError) as raised:
            check_source(_file(tmp_path, data[:cut]))
        assert raised.value.kind == "truncated", cut


def test_bytes_after_the_last_legacy_storage_are_refused(tmp_path):
    path = _file(tmp_path, dc.zoo_bytes(LEGACY) + struct.pack("<q", 0))
    with pytest.raises(DamagedCheckpointError, match="unexplained bytes"):
        check_source(path)


@pytest.mark.parametrize("name", CORRUPT)
def test_non_checkpoints_are_left_to_inspect_file(name):
    """Empty files, text and LFS pointers pass through (inspect_file names them); truncated zips do not."""
    if (ZOO / name).read_bytes()[:2] == b"PK":
        with pytest.raises(DamagedCheckpointError) as raised:
            check_source(ZOO / name)
        assert raised.value.kind == "truncated"
    else:
        assert check_source(ZOO / name).serialization == "unknown"


def test_a_raw_pickle_is_shape_checked_only(tmp_path):
    path = _file(tmp_path, pickle.dumps({"a": [1, 2]}, protocol=2))
    assert check_source(path).serialization == "pickle"
    assert io.BytesIO  # the module is used above for nothing else
