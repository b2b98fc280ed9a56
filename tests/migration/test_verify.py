"""verify_written: the written file is checked record by record and by CRC, not through the mmap reader."""

import zipfile

import pytest
import torch

import damaged_checkpoints as dc
import pfdtrain.migration.compare as compare
import pfdtrain.migration.verify as verify_module
from pfdtrain.checkpoint import new_checkpoint
from pfdtrain.checkpoint.errors import DamagedCheckpointError
from pfdtrain.migration.fast_save import save_fast
from pfdtrain.migration.migrate import MigrationOptions, migrate_file
from pfdtrain.migration.verify import VerificationError, verify_written

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
BIG = 2 * 1024 * 1024  # float32 elements: an 8 MiB storage, copied by the kernel during a migration


def _written(tmp_path, payload):
    path = tmp_path / "out.pt"
    with open(path, "w+b") as handle:
        report = save_fast(payload, handle)
    return path, report


def _payload():
    return new_checkpoint(model={"state_dict": {"w": torch.arange(12.0), "b": torch.ones(3)}})


def test_a_sound_file_passes(tmp_path):
    payload = _payload()
    path, report = _written(tmp_path, payload)
    verify_written(path, payload, report)


def test_a_byte_changed_on_disk_after_the_write_is_found_by_its_crc(tmp_path):
    payload = _payload()
    path, report = _written(tmp_path, payload)
    data = path.read_bytes()
    record = next(m for m in dc.members(data) if m.data == payload["model"]["state_dict"]["w"].numpy().tobytes())
    path.write_bytes(dc.flip(data, record.data_offset + 1))
    with pytest.raises(VerificationError, match=f"record '{record.name.decode()}' of the written file does not match"):
        verify_written(path, payload, report)


def test_a_written_storage_whose_size_disagrees_with_the_pickle_is_refused(tmp_path):
    payload = _payload()
    path, report = _written(tmp_path, payload)
    records = dc.members(path.read_bytes())
    member = dc.pickle_member(records)
    member.data = dc.change_storage(member.data, 0, numel=20)
    path.write_bytes(dc.build_zip(records))
    with pytest.raises(VerificationError, match=r"not a sound checkpoint: .* claims 20 float32 elements"):
        verify_written(path, payload, report)


def test_tensors_known_by_their_crc_are_not_compared_byte_by_byte(tmp_path, monkeypatch):
    payload = _payload()
    path, report = _written(tmp_path, payload)
    compared = []
    real = compare.same_bytes
    monkeypatch.setattr(compare, "same_bytes", lambda a, b: (compared.append(a.numel()), real(a, b))[1])
    monkeypatch.setattr(verify_module, "PLAIN_LOAD_LIMIT", 0)  # no second, plain load here
    verify_written(path, payload, report)
    assert compared == []


def test_a_tensor_that_was_not_written_is_still_compared_byte_by_byte(tmp_path):
    payload = _payload()
    path, report = _written(tmp_path, payload)
    expected = {**payload, "model": {**payload["model"], "state_dict": {"w": torch.arange(12.0) + 1,
                                                                         "b": torch.ones(3)}}}
    with pytest.raises(VerificationError, match=r"\['w'\]: tensor bytes differ"):
        verify_written(path, expected, report)


def _v1_with_big_storage(tmp_path):
    path = tmp_path / "run" / "best_model.pth"
    path.parent.mkdir()
    big = torch.arange(BIG, dtype=torch.float32)
    torch.save({"epoch": 3, "model_state_dict": {"w": big, "b": torch.ones(3)}, "best_val_acc": 1.0}, path)
    return path, big


def test_a_big_storage_copied_by_the_kernel_is_proven_by_the_written_crc(tmp_path):
    path, big = _v1_with_big_storage(tmp_path)
    result = migrate_file(path, tmp_path / "out" / "best_model.pth", MigrationOptions())
    assert result.status == "migrated" and result.verified, result.error
    with zipfile.ZipFile(tmp_path / "out" / "best_model.pth") as archive:
        assert archive.testzip() is None
    assert torch.equal(torch.load(tmp_path / "out" / "best_model.pth", weights_only=True)["model"]["state_dict"]["w"],
                       big)


@pytest.mark.parametrize("mode", ["in-place", "output", "dry-run"])
def test_damage_inside_a_big_storage_is_named_and_nothing_is_left(tmp_path, mode):
    """The big record is not CRC-checked before the write (that would read it twice); the copy is, and
    the input is named as the culprit. In place: no backup, input untouched; --output: no file, no folder."""
    path, _ = _v1_with_big_storage(tmp_path)
    data = path.read_bytes()
    record = next(m for m in dc.members(data) if len(m.data) == BIG * 4)
    path.write_bytes(dc.flip(data, record.data_offset + 4096 + 3, 0x10))
    damaged = path.read_bytes()
    assert torch.load(path, weights_only=True)["epoch"] == 3  # torch reads it without a word
    target = tmp_path / "out" / "deep" / "best_model.pth"
    options = MigrationOptions(dry_run=mode == "dry-run")
    result = migrate_file(path, target if mode == "output" else None, options)
    assert result.status == "failed" and result.error_kind == "damaged", result.error
    assert f"data of record '{record.name.decode()}'" in result.error and "does not match its CRC-32" in result.error
    assert path.read_bytes() == damaged
    assert sorted(p.name for p in path.parent.iterdir()) == ["best_model.pth"]
    assert not (tmp_path / "out").exists()
    assert not result.verified and result.backup is None


def test_a_damaged_source_found_by_the_writer_raises_the_inputs_error(tmp_path, monkeypatch):
    """A small storage is written from memory: its CRC is compared with the source record's."""
    from pfdtrain.migration.zip_records import check_crcs

    path, _ = _v1_with_big_storage(tmp_path)
    data = path.read_bytes()
    small = next(m for m in dc.members(data) if m.data == torch.ones(3).numpy().tobytes())
    path.write_bytes(dc.flip(data, small.data_offset))
    monkeypatch.setattr("pfdtrain.migration.source_check.check_crcs",
                        lambda fd, records, source, **kw: check_crcs(fd, [r for r in records if b"data/" not in
                                                                          r.name.encode()], source, **kw))
    result = migrate_file(path)
    assert result.status == "failed" and result.error_kind == "damaged"
    assert f"record '{small.name.decode()}' (12 bytes) does not match its CRC-32" in result.error
    assert sorted(p.name for p in path.parent.iterdir()) == ["best_model.pth"]


def test_the_inputs_error_class_is_a_checkpoint_format_error():
    assert issubclass(DamagedCheckpointError, ValueError)


@pytest.mark.skipif(not hasattr(__import__("os"), "copy_file_range"), reason="kernel copy (Linux)")
def test_a_kernel_copy_that_went_wrong_is_caught_by_reading_the_file_back(tmp_path, monkeypatch):
    import os

    import pfdtrain.migration.fast_save as fast_save

    path, _ = _v1_with_big_storage(tmp_path)
    real_copy = os.copy_file_range

    def faulty_copy(source, target, count, offset_src=None, offset_dst=None):
        at = os.lseek(target, 0, os.SEEK_CUR)
        copied = real_copy(source, target, count, offset_src, offset_dst)
        os.pwrite(target, b"\xff", at + copied // 2)  # one byte lost on the way
        return copied

    monkeypatch.setattr(fast_save.os, "copy_file_range", faulty_copy)
    result = migrate_file(path)
    assert result.status == "failed" and result.error_kind == "verify-failed", result.error
    assert "of the written file does not match its CRC-32" in result.error and "write or disk error" in result.error
    assert sorted(p.name for p in path.parent.iterdir()) == ["best_model.pth"]
