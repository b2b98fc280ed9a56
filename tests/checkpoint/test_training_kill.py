"""Training SIGKILLed at random moments, some of them mid-write, then resumed until it finishes.

Required after the last run: the weights of an uninterrupted run, no torn checkpoint, no temporary
file left anywhere, and exactly the files an uninterrupted run keeps (``save_top_k`` latest step
checkpoints and ``last.pt``, no ``-v1`` duplicate, no straggler).
"""

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
from pfdtrain.checkpoint.atomic import is_temp_file

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

SRC = Path(pfdtrain.checkpoint.__file__).resolve().parents[2]
TRIALS = 3

# Trains a wide MLP (a 16 MiB layer: a checkpoint write takes a measurable time) for 3 epochs of
# 12 batches, saving every 5 optimizer steps and at each epoch end; resumes from last.pt, or from the
# newest checkpoint when the run was killed before its first last.pt.
TRAIN = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    from pfdtrain import Trainer
    from pfdtrain.callbacks import ModelCheckpoint

    torch.set_num_threads(1)
    folder = Path(sys.argv[1])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 1 << 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(1 << 16, 3))
    g = torch.Generator().manual_seed(1)
    data = TensorDataset(torch.randn(96, 64, generator=g), torch.randint(0, 3, (96,), generator=g))
    loader = DataLoader(data, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(2))
    checkpoints = ModelCheckpoint(dirpath=folder, save_top_k=2, save_last=True, every_n_train_steps=5,
                                  every_n_epochs=1)
    trainer = Trainer(model, lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), callbacks=[checkpoints],
                      max_epochs=3, seed=7, device="cpu", enable_progress_bar=False)
    # resume as a user would: from last.pt, else from the newest checkpoint the killed run left
    found = sorted(folder.glob("*.pt"), key=lambda p: (p.name == "last.pt", p.stat().st_mtime_ns))
    trainer.fit(loader, ckpt_path=found[-1] if found else None)
    torch.save(model.state_dict(), folder.parent / (folder.name + ".weights"))
    print("finished", flush=True)
    """
)


def _env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}


def _train(script, folder, *, kill_after=None, on_temp=False):
    """Run (or resume) training; SIGKILL it after ``kill_after`` seconds or once a temporary file shows."""
    child = subprocess.Popen([sys.executable, str(script), str(folder)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, env=_env())
    if kill_after is None:
        out, _ = child.communicate(timeout=600)
        assert "finished" in out
        return False
    deadline = time.monotonic() + kill_after
    mid_write = False
    while time.monotonic() < deadline and child.poll() is None:
        if on_temp and folder.exists() and any(is_temp_file(p) for p in folder.iterdir()):
            mid_write = True
            break
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    return mid_write


def test_resumed_training_after_sigkills_matches_and_leaves_no_temporary_file(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    reference = tmp_path / "straight"
    started = time.monotonic()
    _train(script, reference)
    duration = time.monotonic() - started
    expected_files = sorted(p.name for p in reference.iterdir())
    assert not any(is_temp_file(name) for name in expected_files)
    expected = torch.load(tmp_path / "straight.weights", weights_only=True)

    rng = random.Random()
    mid_writes = 0
    for trial in range(TRIALS):
        folder = tmp_path / f"trial{trial}"
        for kill in range(2):  # two kills per trial, then a run to the end
            mid_writes += _train(script, folder, kill_after=rng.uniform(0.3, 1.0) * duration, on_temp=kill == 0)
            for path in folder.glob("*.pt") if folder.exists() else ():
                load(path)  # never torn: every checkpoint present is complete
        _train(script, folder)
        assert not [p.name for p in folder.iterdir() if is_temp_file(p)], trial
        assert sorted(p.name for p in folder.iterdir()) == expected_files, trial
        weights = torch.load(tmp_path / f"trial{trial}.weights", weights_only=True)
        for name, value in expected.items():
            torch.testing.assert_close(weights[name], value, rtol=1e-6, atol=1e-7)
    assert mid_writes >= 1, "no kill landed in a write: the test proved nothing about torn files"
