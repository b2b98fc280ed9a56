"""A writer SIGKILLed in the middle of save() never leaves a broken checkpoint behind."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

import pfdtrain.checkpoint
from pfdtrain.checkpoint import load
from pfdtrain.checkpoint.atomic import is_temp_file, remove_stale_temp_files

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
]

SRC = Path(pfdtrain.checkpoint.__file__).resolve().parents[2]
NUMEL = 16 * 1024 * 1024  # 64 MiB of float32 per checkpoint: a save takes a measurable time

WRITER = textwrap.dedent(
    """
    import sys, time
    import torch
    from pfdtrain.checkpoint import new_checkpoint, save

    path, counter, numel = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    while True:
        counter += 1
        ckpt = new_checkpoint(
            model={"state_dict": {"w": torch.full((numel,), float(counter)), "b": torch.arange(1000) + counter}},
            extra={"counter": counter},
        )
        start = time.monotonic()
        save(ckpt, path)
        print(counter, time.monotonic() - start, flush=True)
    """
)


def _assert_intact(ckpt: dict) -> int:
    counter = ckpt["extra"]["counter"]
    state = ckpt["model"]["state_dict"]
    assert state["w"].shape == (NUMEL,)
    assert torch.equal(state["w"], torch.full((NUMEL,), float(counter)))
    assert torch.equal(state["b"], torch.arange(1000) + counter)
    return counter


def _wait_for_temp_file(folder: Path, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(is_temp_file(p) for p in folder.iterdir()):
            return True
        time.sleep(0.0005)
    return False


def test_target_is_always_a_complete_checkpoint_after_sigkill(tmp_path):
    """Kill the writer at random moments, half of the runs while a write is known to be in flight."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    folder = tmp_path / "ckpts"
    target = folder / "last.pth"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    rng = random.Random()
    kills_mid_write = 0
    deadline = time.monotonic() + 60  # hard stop so that a hung writer cannot hang the suite

    for run in range(6):
        child = subprocess.Popen(
            [sys.executable, str(script), str(target), str(run * 1000), str(NUMEL)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            first = child.stdout.readline()  # one complete save in this run: the file exists
            assert first, f"writer died before its first save (run {run})"
            save_seconds = float(first.split()[1])
            if run % 2:  # anywhere in the loop: between saves, mid-write, during the rename...
                time.sleep(rng.uniform(0.0, 2.5 * save_seconds))
            else:  # somewhere inside a write (found by its temp file; kill anyway if none shows)
                _wait_for_temp_file(folder, timeout=3 * save_seconds)
                time.sleep(rng.uniform(0.0, 0.5 * save_seconds))
        finally:
            child.send_signal(signal.SIGKILL)
            output, _ = child.communicate(timeout=30)
        assert time.monotonic() < deadline
        printed = [int(line.split()[0]) for line in (first + output).splitlines()]

        # The target loads and is either the last save that finished or the one in flight whose
        # rename completed just before the kill; never a mix, never a truncated file.
        counter = _assert_intact(load(target))
        assert counter in (printed[-1], printed[-1] + 1), (counter, printed)
        raw = torch.load(target, weights_only=True)  # no allow-list, no pfdtrain involved
        assert raw["extra"]["counter"] == counter

        leftovers = [p for p in folder.iterdir() if p != target]
        assert all(is_temp_file(p) for p in leftovers), leftovers
        assert [p.name for p in folder.iterdir() if p.suffix in (".pt", ".pth")] == ["last.pth"]
        kills_mid_write += bool(leftovers)
        # What a killed writer left is recognised as stale (its lock died with it) and removed.
        assert sorted(remove_stale_temp_files(folder)) == sorted(leftovers)
        assert [p.name for p in folder.iterdir()] == ["last.pth"]

    # Otherwise the test proved nothing about interrupted writes.
    assert kills_mid_write >= 1
