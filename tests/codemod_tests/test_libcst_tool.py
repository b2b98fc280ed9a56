"""The same rewrite through ``python -m libcst.tool codemod`` with the repository's config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_libcst_tool_runs_the_command_from_the_repository_config(tmp_path):
    config = (ROOT / ".libcst.codemod.yaml").read_text()
    assert "- 'codemods'" in config and "formatter: []" in config  # no black
    (tmp_path / "a.py").write_bytes(b"from training.optimizers import create_optimizer  # keep\r\n"
                                    b"opt = create_optimizer(p, 'sgd')\r\n")
    (tmp_path / "b.py").write_text("from training.cnn_losses import create_loss_function\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run(
        [sys.executable, "-m", "libcst.tool", "codemod", "legacy_training.LegacyTrainingCommand",
         "--no-format", "--hide-progress", "-j", "1", str(tmp_path), "--replace-deprecated"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "a.py").read_bytes() == (
        b"from pfdtrain.compat.cnn_optimizer import create_optimizer  # keep\r\n"
        b"opt = create_optimizer(optimizer_type='sgd', model_params=p)\r\n")
    assert (tmp_path / "b.py").read_text() == "from training.cnn_losses import create_loss_function\n"
    assert "unmapped training.cnn_losses.create_loss_function" in out.stderr  # reported as a warning
    assert "behaviour change: deprecated call replaced" in out.stderr  # the opt-in rewrite is named
