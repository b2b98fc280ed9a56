"""Only regular files are opened: pipes, folders, devices, sockets and broken links are named, never read."""

import os
import socket
import threading

import pytest

import pfdtrain.checkpoint.regular_file as regular_file
from pfdtrain.checkpoint.errors import NotRegularFileError
from pfdtrain.checkpoint.regular_file import check_regular, open_regular

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and sockets are POSIX")


def _within(seconds, call):
    """Run ``call`` in a thread; fail (instead of hanging the suite) if it has not returned in time."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"{call} blocked"
    return outcome


@posix_only
def test_a_fifo_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "model.pth"
    os.mkfifo(fifo)
    outcome = _within(10, lambda: open_regular(fifo))
    assert isinstance(outcome["error"], NotRegularFileError)
    assert "is a named pipe (FIFO)" in str(outcome["error"]) and "wait for a writer" in str(outcome["error"])


@posix_only
def test_a_fifo_swapped_in_after_the_check_is_still_refused_at_once(tmp_path, monkeypatch):
    fifo = tmp_path / "model.pth"
    os.mkfifo(fifo)
    monkeypatch.setattr(regular_file, "check_regular", lambda path: None)  # the race: it was a file a moment ago
    outcome = _within(10, lambda: open_regular(fifo))
    assert isinstance(outcome["error"], NotRegularFileError)


@posix_only
def test_a_pipe_from_process_substitution_gets_its_own_advice():
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(NotRegularFileError, match=r"a pipe such as <\(cat FILE\) can be read only once"):
            check_regular(f"/dev/fd/{read_end}")
    finally:
        os.close(read_end)
        os.close(write_end)


def test_folders_and_devices(tmp_path):
    (tmp_path / "folder.pth").mkdir()
    with pytest.raises(NotRegularFileError, match="is a folder"):
        check_regular(tmp_path / "folder.pth")
    if os.path.exists(os.devnull) and os.name == "posix":
        with pytest.raises(NotRegularFileError, match="is a device file"):
            check_regular(os.devnull)


@posix_only
def test_sockets_and_symbolic_links(tmp_path):
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "s.pth"))
        with pytest.raises(NotRegularFileError, match="is a socket"):
            check_regular(tmp_path / "s.pth")
    (tmp_path / "loop.pth").symlink_to("loop.pth")
    with pytest.raises(NotRegularFileError, match="loops back on itself"):
        check_regular(tmp_path / "loop.pth")
    (tmp_path / "dangling.pth").symlink_to("gone.pth")
    with pytest.raises(NotRegularFileError, match="link to a missing file"):
        check_regular(tmp_path / "dangling.pth")
    (tmp_path / "real.pth").write_bytes(b"x")
    (tmp_path / "link.pth").symlink_to("real.pth")
    assert check_regular(tmp_path / "link.pth").st_size == 1


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        check_regular(tmp_path / "nowhere.pth")


def test_a_regular_file_opens(tmp_path):
    path = tmp_path / "a.pth"
    path.write_bytes(b"data")
    fd = open_regular(path)
    try:
        assert os.read(fd, 10) == b"data"
    finally:
        os.close(fd)
