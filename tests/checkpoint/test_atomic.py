import os
import stat

import pytest

from pfdtrain.checkpoint import atomic_write
from pfdtrain.checkpoint.atomic import is_temp_file

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and fsync of folders")


def _write(data: bytes):
    return lambda handle: handle.write(data)


def test_writes_the_bytes_creates_parents_and_returns_the_path(tmp_path):
    target = tmp_path / "a" / "b" / "ckpt.pth"
    result = atomic_write(str(target), _write(b"hello"))
    assert result == target
    assert target.read_bytes() == b"hello"
    assert sorted(p.name for p in target.parent.iterdir()) == ["ckpt.pth"]


def test_replaces_an_existing_file(tmp_path):
    target = tmp_path / "ckpt.pth"
    target.write_bytes(b"old")
    atomic_write(target, _write(b"new"))
    assert target.read_bytes() == b"new"


def test_temp_file_is_hidden_recognisable_and_in_the_target_folder(tmp_path):
    target = tmp_path / "ckpt.pth"
    seen = {}

    def write(handle):
        seen["during"] = sorted(p.name for p in tmp_path.iterdir())
        handle.write(b"x")

    atomic_write(target, write)
    # The temp file lives next to the target (same filesystem: os.replace is atomic).
    assert len(seen["during"]) == 1
    temp = seen["during"][0]
    assert temp.startswith(".ckpt.pth.tmp-")
    assert is_temp_file(tmp_path / temp)
    assert not is_temp_file(target) and not is_temp_file(tmp_path / "ckpt.tmp.pth")


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()])
def test_error_while_writing_keeps_old_file_and_removes_temp(tmp_path, error):
    target = tmp_path / "ckpt.pth"
    target.write_bytes(b"old")

    def write(handle):
        handle.write(b"partial")
        raise error

    with pytest.raises(type(error)):
        atomic_write(target, write)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pth"]


def test_error_before_first_save_leaves_nothing(tmp_path):
    target = tmp_path / "ckpt.pth"
    with pytest.raises(RuntimeError):
        atomic_write(target, lambda handle: (_ for _ in ()).throw(RuntimeError("x")))
    assert list(tmp_path.iterdir()) == []


def test_file_fsync_happens_before_replace_and_folder_is_fsynced_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(f"fsync-{kind}")
        real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    atomic_write(tmp_path / "ckpt.pth", _write(b"x"))
    expected = ["fsync-file", "replace", "fsync-dir"] if os.name == "posix" else ["fsync-file", "replace"]
    assert events == expected


@posix_only
def test_new_file_gets_umask_permissions_not_mkstemp_0600(tmp_path):
    old = os.umask(0o027)
    try:
        target = atomic_write(tmp_path / "ckpt.pth", _write(b"x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@posix_only
def test_replacing_keeps_the_permissions_of_the_old_file(tmp_path):
    target = tmp_path / "ckpt.pth"
    target.write_bytes(b"old")
    target.chmod(0o604)
    atomic_write(target, _write(b"new"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o604


def test_before_replace_sees_the_complete_new_file_while_the_target_is_still_old(tmp_path):
    target = tmp_path / "ckpt.pth"
    target.write_bytes(b"old")
    seen = {}

    def check(temp):
        seen["temp"] = temp.read_bytes()
        seen["target"] = target.read_bytes()

    atomic_write(target, lambda f: f.write(b"new data"), before_replace=check)
    assert seen == {"temp": b"new data", "target": b"old"}
    assert target.read_bytes() == b"new data"


def test_a_failing_before_replace_leaves_the_target_and_no_temp_file(tmp_path):
    target = tmp_path / "ckpt.pth"
    target.write_bytes(b"old")

    def refuse(temp):
        raise ValueError("verification failed")

    with pytest.raises(ValueError, match="verification failed"):
        atomic_write(target, lambda f: f.write(b"new"), before_replace=refuse)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pth"]
