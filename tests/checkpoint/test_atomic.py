import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pfdtrain.checkpoint.atomic as atomic
from pfdtrain.checkpoint import atomic_write
from pfdtrain.checkpoint.atomic import is_temp_file, remove_stale_temp_files, stale_temp_files

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


# ---------------------------------------------------------------------- leftovers of killed writers

NAME = re.compile(r"^\.ckpt\.pth\.tmp-(\d+)-[0-9a-f]{12}$")
needs_flock = pytest.mark.skipif(atomic.fcntl is None, reason="advisory locks are POSIX (fcntl)")

# A writer that creates its temporary file, says so, and waits to be killed (SIGKILL: no clean-up).
KILLED_WRITER = """
import sys, time
from pfdtrain.checkpoint.atomic import atomic_write

def write(handle):
    handle.write(b"partial")
    handle.flush()
    print("writing", flush=True)
    time.sleep(60)

atomic_write(sys.argv[1], write)
"""


def _killed_writer_leftover(tmp_path) -> Path:
    """Run a writer in a child process, SIGKILL it mid-write; return the temporary file it left."""
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(tmp_path / "ckpt.pth")],
                             stdout=subprocess.PIPE, text=True, env=_env())
    try:
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.kill()
        child.wait(timeout=30)
    (leftover,) = [p for p in tmp_path.iterdir() if p.name.startswith(".ckpt.pth.tmp-")]
    assert int(NAME.match(leftover.name)[1]) == child.pid
    return leftover


def _env():
    src = str(Path(atomic.__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}


def test_the_temporary_name_says_which_process_writes_it(tmp_path):
    seen = []
    atomic_write(tmp_path / "ckpt.pth", lambda handle: seen.extend(p.name for p in tmp_path.iterdir()))
    assert len(seen) == 1 and NAME.match(seen[0]) and int(NAME.match(seen[0])[1]) == os.getpid()


@needs_flock
def test_the_writer_holds_a_lock_on_its_temporary_file_until_the_rename(tmp_path):
    held = []

    def probe(temp):
        fd = os.open(temp, os.O_RDONLY)
        try:
            atomic.fcntl.flock(fd, atomic.fcntl.LOCK_EX | atomic.fcntl.LOCK_NB)
            held.append(False)
        except OSError:
            held.append(True)
        finally:
            os.close(fd)

    atomic_write(tmp_path / "ckpt.pth", lambda handle: handle.write(b"x"), check=probe, before_replace=probe)
    assert held == [True, True]


@needs_flock
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_writers_file_is_removed_and_nothing_else(tmp_path):
    leftover = _killed_writer_leftover(tmp_path)
    (tmp_path / "ckpt.pth").write_bytes(b"the checkpoint")
    dead = leftover.name.split("-")[1]
    look_alikes = {
        ".ckpt.pth.tmp-k2j3h4_x": b"pre-0.9 name: no owner known",
        f".ckpt.pth.tmp-{dead}-0123456789AB": b"upper case",
        f"ckpt.pth.tmp-{dead}-0123456789ab": b"not hidden",
        f".ckpt.pth.tmp-{dead}-0123456789ab.bak": b"suffix",
        f".ckpt.pth.tmp-{dead}-0123456789a": b"short token",
        ".ckpt.pth.tmp-0-0123456789ab": b"pid 0",
        "notes.txt": b"a user's file",
    }
    for name, data in look_alikes.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / f".other.pth.tmp-{dead}-aaaaaaaaaaaa").mkdir()  # right name, but a folder
    (tmp_path / f".link.pth.tmp-{dead}-bbbbbbbbbbbb").symlink_to("notes.txt")  # right name, a link
    os.mkfifo(tmp_path / f".fifo.pth.tmp-{dead}-cccccccccccc")  # right name, a pipe: never blocks
    before = sorted(p.name for p in tmp_path.iterdir())

    assert stale_temp_files(tmp_path) == [leftover]  # the dry run changes nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert remove_stale_temp_files(tmp_path) == [leftover]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(before) - {leftover.name})
    for name, data in look_alikes.items():
        assert (tmp_path / name).read_bytes() == data
    assert (tmp_path / "ckpt.pth").read_bytes() == b"the checkpoint"


@needs_flock
def test_a_file_locked_by_a_live_writer_is_kept(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(tmp_path / "ckpt.pth")],
                             stdout=subprocess.PIPE, text=True, env=_env())
    try:
        assert child.stdout.readline().strip() == "writing"
        (temp,) = [p for p in tmp_path.iterdir() if p.name.startswith(".ckpt.pth.tmp-")]
        assert remove_stale_temp_files(tmp_path) == [] and temp.exists()
    finally:
        child.kill()
        child.wait(timeout=30)
    assert remove_stale_temp_files(tmp_path) == [temp]


@needs_flock
def test_an_unlocked_file_of_a_live_process_is_kept_unless_the_process_is_younger(tmp_path):
    """The instant between creating and locking: a live writer's unlocked file is kept. A process
    started after the file was last written cannot have written it (its id was reused)."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        temp = tmp_path / f".ckpt.pth.tmp-{sleeper.pid}-0123456789ab"
        temp.write_bytes(b"x")
        assert remove_stale_temp_files(tmp_path) == []
        if Path(f"/proc/{sleeper.pid}/stat").exists():
            an_hour_ago = time.time() - 3600
            os.utime(temp, (an_hour_ago, an_hour_ago))
            assert remove_stale_temp_files(tmp_path) == [temp]
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)


@needs_flock
def test_this_processes_own_name_counts_as_stale_only_when_it_is_not_writing_it(tmp_path):
    leftover = tmp_path / f".ckpt.pth.tmp-{os.getpid()}-0123456789ab"
    leftover.write_bytes(b"x")
    removed = []

    def write(handle):
        removed.extend(remove_stale_temp_files(tmp_path))  # runs while our own temp file exists
        handle.write(b"new")

    atomic_write(tmp_path / "ckpt.pth", write)
    assert removed == [leftover] and (tmp_path / "ckpt.pth").read_bytes() == b"new"


def test_without_fcntl_nothing_is_removed_and_writing_still_works(tmp_path, monkeypatch):
    """What Windows gets: no advisory locks, so leftovers are kept rather than guessed at."""
    leftover = tmp_path / ".ckpt.pth.tmp-999999999-0123456789ab"
    leftover.write_bytes(b"x")
    monkeypatch.setattr(atomic, "fcntl", None)
    assert remove_stale_temp_files(tmp_path) == [] and leftover.exists()
    atomic_write(tmp_path / "ckpt.pth", _write(b"data"))
    assert (tmp_path / "ckpt.pth").read_bytes() == b"data"
