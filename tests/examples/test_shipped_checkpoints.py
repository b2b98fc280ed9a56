"""The two v1 checkpoints shipped with examples/legacy_project (the files the demo migrates): their
legacy layouts, and the accuracy evaluate.py gives on them through the shims, which is what the
legacy trainers recorded when they saved them."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "legacy_project"


def _evaluate(rel: str, *extra: str) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]), "OMP_NUM_THREADS": "1"}
    env.pop("PFDTRAIN_DISABLE_SHIMS", None)
    code = ("import legacy_shims, runpy, sys; legacy_shims.install(); sys.path.insert(0, '.'); "
            f"sys.argv = ['evaluate.py', {rel!r}, *{list(extra)!r}]; "
            "runpy.run_path('evaluate.py', run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return float(re.search(r"accuracy ([\d.]+)%", out.stdout).group(1))


def test_cnn_trainer_best_model_layout_and_accuracy():
    checkpoint = torch.load(PROJECT / "checkpoints" / "cnn" / "best_model.pth", map_location="cpu")
    assert list(checkpoint) == ["epoch", "model_state_dict", "optimizer_state_dict", "best_val_acc",
                                "best_val_loss", "history", "scheduler_state_dict"]
    assert checkpoint["best_val_acc"] == checkpoint["history"]["val_acc"][checkpoint["epoch"]]
    assert _evaluate("checkpoints/cnn/best_model.pth") == pytest.approx(checkpoint["best_val_acc"], abs=0.005)


def test_model_checkpoint_callback_file_layout_and_accuracy():
    checkpoint = torch.load(PROJECT / "checkpoints" / "pinn" / "pinn_best.pth", map_location="cpu")
    assert list(checkpoint) == ["epoch", "model_state_dict", "optimizer_state_dict", "metrics", "best_value"]
    assert checkpoint["metrics"]["val_acc"] == checkpoint["best_value"]
    accuracy = _evaluate("checkpoints/pinn/pinn_best.pth", "--model", "speed-aware")
    assert accuracy == pytest.approx(checkpoint["best_value"], abs=0.005)
