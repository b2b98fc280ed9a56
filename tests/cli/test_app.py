import subprocess
import sys

import torch
from typer.testing import CliRunner

from pfdtrain.cli.app import app

runner = CliRunner()


def test_demo_trains_prints_a_metrics_table_and_the_checkpoint_path(tmp_path):
    result = runner.invoke(app, ["demo", "--workdir", str(tmp_path), "--epochs", "1",
                                 "--samples-per-class", "4", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "Metrics per epoch" in result.output and "val_acc" in result.output
    path = tmp_path / "checkpoints" / "demo-last.pt"
    assert f"Checkpoint written to: {path}" in result.output.replace("\n", "")
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "pfdtrain.checkpoint" and raw["training"]["epoch"] == 1
    assert raw["model"]["config"] == {"num_classes": 11, "channels": 16, "in_channels": 1}


def test_console_scripts_are_installed():
    out = subprocess.run([sys.executable, "-m", "pfdtrain", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("pfdtrain ")
