"""save_fast: a valid zip (every CRC-32 checked by Python's zipfile) that torch loads, written at copy speed."""

import zipfile
import zlib

import pytest
import torch

import pfdtrain.migration.fast_save as fast_save
from pfdtrain.migration.fast_save import save_fast


def _payload():
    g = torch.Generator().manual_seed(0)
    return {"big": torch.randn(3 * 1024 * 1024, generator=g), "small": torch.arange(5), "text": "x" * 100,
            "shared": [torch.ones(2)] * 2}


def _save(path, obj):
    with open(path, "w+b") as handle:  # read-write, like atomic_write's temporary file
        save_fast(obj, handle)


def test_every_crc_is_right_and_torch_loads_the_file(tmp_path, monkeypatch):
    obj = _payload()
    saves = []
    real_save = torch.save
    monkeypatch.setattr(torch, "save", lambda *a, **k: (saves.append(1), real_save(*a, **k))[1])
    _save(tmp_path / "a.pt", obj)
    assert len(saves) == 1  # the fast path itself, not the fallback
    with zipfile.ZipFile(tmp_path / "a.pt") as archive:
        assert archive.testzip() is None  # reads every record and checks its CRC-32
        assert all(info.CRC != 0 for info in archive.infolist() if info.file_size)
    loaded = torch.load(tmp_path / "a.pt", weights_only=True, mmap=True)
    assert torch.equal(loaded["big"], obj["big"]) and loaded["text"] == obj["text"]
    assert loaded["shared"][0].data_ptr() == loaded["shared"][1].data_ptr()  # storage sharing kept


def test_torch_crc_option_is_restored(tmp_path):
    before = torch.serialization.get_crc32_options()
    _save(tmp_path / "a.pt", _payload())
    assert torch.serialization.get_crc32_options() == before


def test_an_unexpected_archive_falls_back_to_a_plain_torch_save(tmp_path, monkeypatch):
    def broken(fd, known):
        raise ValueError("unexpected zip structure")

    monkeypatch.setattr(fast_save, "fill_crcs", broken)
    _save(tmp_path / "a.pt", _payload())
    with zipfile.ZipFile(tmp_path / "a.pt") as archive:
        assert archive.testzip() is None


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_migrated_zoo_files_are_valid_zips(tmp_path):
    from pfdtrain.migration.migrate import migrate_file
    from zoo_manifest import LOADABLE, copy_zoo

    folder = copy_zoo(tmp_path, LOADABLE)
    for name in LOADABLE:
        assert migrate_file(folder / name).status == "migrated"
        with zipfile.ZipFile(folder / name) as archive:
            assert archive.testzip() is None, name


def test_storages_mapped_from_the_source_are_copied_by_the_kernel_and_read_back_from_the_file(tmp_path, monkeypatch):
    """The 8 MiB storage never passes through the writer: the kernel copies it and its CRC comes from
    the source archive; the verification then reads it back from the written file to prove the copy."""
    import pfdtrain.migration.zip_records as zip_records
    from pfdtrain.migration.migrate import migrate_file

    big = torch.arange(2 * 1024 * 1024, dtype=torch.float32)  # 8 MiB: one chunk per storage
    torch.save({"epoch": 0, "model_state_dict": {"w": big, "b": torch.ones(3)}, "val_acc": 1.0}, tmp_path / "v1.pth")

    def counting(sizes):
        real_crc32 = zlib.crc32

        class CountingZlib:
            @staticmethod
            def crc32(data, value=0):
                sizes.append(memoryview(data).nbytes)
                return real_crc32(data, value)

        return CountingZlib

    in_writer, read_back, copied = [], [], []
    monkeypatch.setattr(fast_save, "zlib", counting(in_writer))
    monkeypatch.setattr(zip_records, "zlib", counting(read_back))
    real_copy = getattr(fast_save.os, "copy_file_range", None)
    if real_copy is not None:
        monkeypatch.setattr(fast_save.os, "copy_file_range", lambda *a: (copied.append(a[2]), real_copy(*a))[1])
    assert migrate_file(tmp_path / "v1.pth", tmp_path / "v2.pth").status == "migrated"
    assert max(in_writer) < big.numel() * 4  # the writer never computed the big record's CRC itself
    if real_copy is not None:
        assert sum(copied) == big.numel() * 4  # its bytes were copied by the kernel
        assert sum(read_back) >= big.numel() * 4  # and read back from the new file by the verification
    with zipfile.ZipFile(tmp_path / "v2.pth") as archive:
        assert archive.testzip() is None
    assert torch.equal(torch.load(tmp_path / "v2.pth", weights_only=True)["model"]["state_dict"]["w"], big)
