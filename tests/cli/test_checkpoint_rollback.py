"""Restoring migrated checkpoints from ``NAME.v1.bak``: verified against the recorded digest, atomic."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pfdtrain.cli import checkpoint_rollback as rollback
from pfdtrain.migration.migrate import migrate_file

ZOO = Path(__file__).resolve().parents[2] / "golden" / "training" / "checkpoints_v1"


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "best_model.pth"
    shutil.copy(ZOO / "cnn_trainer_best_model.pth", path)
    os.utime(path, (1_600_000_000, 1_600_000_000))
    return path


def test_a_migrated_file_comes_back_byte_for_byte_and_its_backup_goes(checkpoint):
    original_bytes = checkpoint.read_bytes()
    [original] = rollback.record([checkpoint])
    assert migrate_file(checkpoint).status == "migrated" and rollback.migrated(original)
    done = rollback.restore(original)
    assert done.status == "restored", done.detail
    assert checkpoint.read_bytes() == original_bytes and checkpoint.stat().st_mtime == 1_600_000_000
    assert not original.backup.exists() and not rollback.migrated(original)
    assert [p.name for p in checkpoint.parent.iterdir()] == ["best_model.pth"]  # no temporary file left
    assert migrate_file(checkpoint).status == "migrated"  # and it can be migrated again later


def test_a_file_that_was_not_migrated_is_left_alone(checkpoint):
    [original] = rollback.record([checkpoint])
    assert rollback.restore(original).status == "unchanged" and not rollback.migrated(original)


@pytest.mark.parametrize("damage", ["missing", "different"])
def test_a_backup_that_is_not_the_original_is_never_restored(checkpoint, damage):
    [original] = rollback.record([checkpoint])
    migrate_file(checkpoint)
    migrated_bytes = checkpoint.read_bytes()
    if damage == "missing":
        original.backup.unlink()
    else:
        original.backup.unlink()  # the backup is a hard link: write a new file, not into the original
        original.backup.write_bytes(b"something else")
    done = rollback.restore(original)
    assert done.status == "failed" and "v2 file was left in place" in done.detail
    assert checkpoint.read_bytes() == migrated_bytes  # the v2 file (which holds every value) stays


def test_through_a_symlink_the_target_is_restored_and_the_link_stays(checkpoint, tmp_path):
    link = tmp_path / "latest.pth"
    link.symlink_to(checkpoint.name)
    original_bytes = checkpoint.read_bytes()
    [original] = rollback.record([link])
    assert migrate_file(link).status == "migrated"
    assert rollback.restore(original).status == "restored"
    assert link.is_symlink() and link.read_bytes() == original_bytes
