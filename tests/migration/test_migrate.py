"""migrate_file: verify before backup before replace; v2 untouched; never written over a mapped input."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import pfdtrain.checkpoint
import pfdtrain.migration.migrate as migrate_module
from pfdtrain.checkpoint import load, new_checkpoint, save
from pfdtrain.checkpoint.atomic import is_temp_file
from pfdtrain.migration.migrate import MigrationOptions, migrate_file
from zoo_manifest import ENTRIES, copy_zoo, tensor_sha256

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
SRC = Path(pfdtrain.checkpoint.__file__).resolve().parents[2]
NAME = "cnn_trainer_best_model.pth"


@pytest.fixture
def v1_file(tmp_path):
    return copy_zoo(tmp_path / "ckpts", [NAME]) / NAME


def _weights_sha(path):
    return {k: tensor_sha256(v) for k, v in load(path)["model"]["state_dict"].items()}


def test_in_place_the_backup_is_made_after_verification_and_holds_the_old_bytes(v1_file, monkeypatch):
    original = v1_file.read_bytes()
    backup = v1_file.with_name(NAME + ".v1.bak")
    seen = {}
    real_verify = migrate_module.verify_written

    def spy(temp, expected, *args, **kw):
        seen.update(backup_exists=backup.exists(), source=v1_file.read_bytes(), temp_is_temp=is_temp_file(temp))
        real_verify(temp, expected, *args, **kw)

    monkeypatch.setattr(migrate_module, "verify_written", spy)
    result = migrate_file(v1_file)
    assert result.status == "migrated" and result.verified and result.backup == str(backup)
    assert seen == {"backup_exists": False, "source": original, "temp_is_temp": True}
    assert backup.read_bytes() == original
    expected = {k: v["sha256"] for k, v in ENTRIES[NAME]["content"]["model_state_dict"].items()}
    assert _weights_sha(v1_file) == expected
    assert sorted(p.name for p in v1_file.parent.iterdir()) == [NAME, NAME + ".v1.bak"]


def test_a_failed_verification_leaves_the_input_alone_without_backup_or_temp_file(v1_file, monkeypatch):
    original = v1_file.read_bytes()
    real_save = torch.save

    def corrupting_save(obj, handle, *args, **kwargs):  # a writer that silently damages one tensor
        obj = {**obj, "model": {**obj["model"], "state_dict": dict(obj["model"]["state_dict"])}}
        obj["model"]["state_dict"]["fc.bias"] = obj["model"]["state_dict"]["fc.bias"] + 1
        return real_save(obj, handle, *args, **kwargs)

    monkeypatch.setattr(torch, "save", corrupting_save)
    result = migrate_file(v1_file)
    assert result.status == "failed" and result.error_kind == "verify-failed"
    assert "fc.bias" in result.error and "bytes differ" in result.error
    assert v1_file.read_bytes() == original
    assert [p.name for p in v1_file.parent.iterdir()] == [NAME]


def test_a_v2_file_is_reported_and_left_untouched(tmp_path):
    path = save(new_checkpoint(model={"state_dict": {"w": torch.ones(2)}}), tmp_path / "new.pt")
    before = os.stat(path)
    result = migrate_file(path)
    after = os.stat(path)
    assert result.status == "up-to-date" and result.layout == "v2" and result.backup is None
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    assert [p.name for p in tmp_path.iterdir()] == ["new.pt"]


def test_output_folder_leaves_the_source_untouched(v1_file, tmp_path):
    original = v1_file.read_bytes()
    target = tmp_path / "out" / "sub" / NAME
    result = migrate_file(v1_file, target, MigrationOptions(verify=True))
    assert result.status == "migrated" and result.verified and result.backup is None
    assert v1_file.read_bytes() == original and load(target)["training"]["epoch"] == 2


def test_dry_run_describes_and_writes_nothing(v1_file):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in v1_file.parent.iterdir())
    result = migrate_file(v1_file, options=MigrationOptions(dry_run=True))
    assert result.status == "would-migrate" and result.layout == "cnn_trainer"
    assert result.changes[0].startswith("model_state_dict -> model.state_dict")
    assert sorted((p.name, p.stat().st_mtime_ns) for p in v1_file.parent.iterdir()) == before


def test_an_existing_foreign_backup_is_never_overwritten(v1_file):
    backup = v1_file.with_name(NAME + ".v1.bak")
    backup.write_bytes(b"someone's file")
    original = v1_file.read_bytes()
    result = migrate_file(v1_file)
    assert result.status == "failed" and result.error_kind == "backup-exists"
    assert backup.read_bytes() == b"someone's file" and v1_file.read_bytes() == original


def test_a_backup_left_by_an_interrupted_run_is_reused(v1_file):
    os.link(v1_file, v1_file.with_name(NAME + ".v1.bak"))  # killed right after making the backup
    assert migrate_file(v1_file).status == "migrated"


def test_downgrade_writes_a_legacy_file_elsewhere(v1_file, tmp_path):
    v2_path = tmp_path / "v2.pt"
    assert migrate_file(v1_file, v2_path).status == "migrated"
    target = tmp_path / "legacy" / "best_model.pth"
    result = migrate_file(v2_path, target, MigrationOptions(downgrade_to="cnn_trainer", verify=True))
    assert result.status == "downgraded" and result.verified
    raw = torch.load(target, weights_only=True)
    assert list(raw) == ENTRIES[NAME]["top_level_keys"] and raw["epoch"] == 1


MAPPED_READER = textwrap.dedent(
    """
    import os, sys, torch
    from pfdtrain.migration.migrate import migrate_file

    path = sys.argv[1]
    inode = os.stat(path).st_ino
    mapped = torch.load(path, mmap=True, weights_only=True)  # the input stays mapped during migration
    result = migrate_file(path)
    assert result.status == "migrated", result.error
    total = sum(float(t.double().sum()) for t in mapped["model_state_dict"].values())  # touch every page
    assert os.stat(path).st_ino != inode, "the new file must be a new inode"
    assert os.stat(path + ".v1.bak").st_ino == inode, "the mapped inode lives on as the backup"
    print("ok", total)
    """
)


def test_migrating_in_place_never_writes_over_a_memory_mapped_input(tmp_path):
    """Writing over a file mapped for reading raises SIGBUS in the reader; a new inode does not."""
    path = tmp_path / "big.pth"
    weights = {"conv.weight": torch.randn(4, 1, 5), "fc.weight": torch.randn(1024, 1024), "fc.bias": torch.randn(1024)}
    torch.save({"epoch": 0, "model_state_dict": weights, "val_acc": 10.0}, path)
    (tmp_path / "reader.py").write_text(MAPPED_READER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.run([sys.executable, str(tmp_path / "reader.py"), str(path)], capture_output=True,
                           text=True, env=env, timeout=120)
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])  # -7 would be SIGBUS
    expected = sum(float(t.double().sum()) for t in weights.values())
    assert child.stdout.split()[0] == "ok" and float(child.stdout.split()[1]) == pytest.approx(expected)


def test_in_place_through_a_symlink_migrates_the_file_and_keeps_the_link(v1_file, tmp_path):
    link = tmp_path / "latest.pth"
    link.symlink_to(v1_file)
    original = v1_file.read_bytes()
    result = migrate_file(link)
    assert result.status == "migrated" and link.is_symlink() and link.resolve() == v1_file
    assert load(link)["training"]["epoch"] == 2
    assert v1_file.with_name(NAME + ".v1.bak").read_bytes() == original
