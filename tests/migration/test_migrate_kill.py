"""SIGKILL during an in-place folder migration: every path is its old file or a complete new one."""

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import pfdtrain.checkpoint
from pfdtrain.checkpoint import load
from pfdtrain.checkpoint.atomic import is_temp_file

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

SRC = Path(pfdtrain.checkpoint.__file__).resolve().parents[2]
FILES = 10
NUMEL = 4 * 1024 * 1024  # 16 MiB of float32 per file: each migration takes a measurable time


def _write_v1_folder(folder: Path) -> dict[str, tuple[str, float]]:
    """CNNTrainer-layout files; returns name -> (sha256 of the file, the value filling its weights)."""
    folder.mkdir()
    originals = {}
    for i in range(FILES):
        value = float(i + 1)
        weights = {"fc.weight": torch.full((NUMEL,), value), "fc.bias": torch.arange(7.0)}
        ckpt = {"epoch": i, "model_state_dict": weights,
                "optimizer_state_dict": {"state": {}, "param_groups": []}, "best_val_acc": 50.0 + i,
                "best_val_loss": 1.0, "history": {"train_loss": [1.0] * (i + 1)}}
        path = folder / f"run{i}_best_model.pth"
        torch.save(ckpt, path)
        originals[path.name] = (hashlib.sha256(path.read_bytes()).hexdigest(), value)
    return originals


def _state_of(path: Path, original: tuple[str, float]) -> str:
    """'old' (byte-identical original) or 'new' (a complete v2 file with the same data); else fail."""
    if hashlib.sha256(path.read_bytes()).hexdigest() == original[0]:
        return "old"
    ckpt = load(path)  # raises for a partial or foreign file
    weights = ckpt["model"]["state_dict"]
    assert torch.equal(weights["fc.weight"], torch.full((NUMEL,), original[1])), path
    assert torch.equal(weights["fc.bias"], torch.arange(7.0)) and ckpt["extra"]["best_val_loss"] == 1.0
    return "new"


def _kill_during_run(folder: Path, env: dict, events: int) -> None:
    """Start a migration and SIGKILL it once it has shown ``events`` new temporary files or backups.

    Killing on observed progress rather than after a fixed delay keeps the kill inside the run
    on a slow or busy machine; polling every 2 ms lands it mid-write or between the steps of a file.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "pfdtrain", "migrate-checkpoint", str(folder), "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    before = set(folder.iterdir())
    seen: set[Path] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None and len(seen) < events:
        seen |= {p for p in set(folder.iterdir()) - before if is_temp_file(p) or p.name.endswith(".v1.bak")}
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)


def test_every_path_holds_its_old_file_or_a_complete_new_one_after_sigkill(tmp_path):
    folder = tmp_path / "runs"
    originals = _write_v1_folder(folder)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    rng = random.Random()
    seen_mixed = False
    for _ in range(3):
        _kill_during_run(folder, env, events=rng.randint(1, 4))
        states = {name: _state_of(folder / name, original) for name, original in originals.items()}
        seen_mixed |= len(set(states.values())) == 2
        for name, original in originals.items():
            backup = folder / (name + ".v1.bak")
            if backup.exists():  # a backup is always the complete old file
                assert hashlib.sha256(backup.read_bytes()).hexdigest() == original[0]
            else:
                assert states[name] == "old", f"{name} was replaced before its backup existed"
        leftovers = [p.name for p in folder.iterdir() if p.name not in originals and not p.name.endswith(".v1.bak")]
        assert all(is_temp_file(name) for name in leftovers), leftovers

    # A later run finishes the job: interrupted files are migrated, the killed runs' temporary files removed.
    left = [p for p in folder.iterdir() if is_temp_file(p)]
    done = subprocess.run([sys.executable, "-m", "pfdtrain", "migrate-checkpoint", str(folder), "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(_state_of(folder / name, original) == "new" for name, original in originals.items())
    assert not [p.name for p in folder.iterdir() if is_temp_file(p)]
    if left:
        assert f"removed {len(left)} temporary file(s) left by an interrupted run" in done.stdout
    assert seen_mixed, "no kill landed in the middle of the folder: the test proved nothing"
