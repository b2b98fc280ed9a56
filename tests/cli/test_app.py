import subprocess
import sys

import pytest
import torch
from typer.testing import CliRunner

from pfdtrain.cli.app import app

runner = CliRunner()


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts}


@pytest.mark.slow
def test_demo_moves_the_example_project_end_to_end_and_leaves_the_original_alone(tmp_path):
    from pfdtrain.cli.demo import bundled_project

    original = _tree(bundled_project())
    result = runner.invoke(app, ["demo", "--workdir", str(tmp_path), "--no-progress"], terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.output
    for step in ("1. scan", "2. tests before", "3. codemod", "4. migrate-checkpoint", "5. remove the legacy package",
                 "6. tests after the migration (PFDTRAIN_DISABLE_SHIMS=1)", "the change the report asks for",
                 "pfdtrain upgrade again", "resume: one more epoch", "before and after"):
        assert step in out
    copy = tmp_path / "legacy_project"
    # the codemod rewrote every legacy import of the copy except the vendored snapshot's own
    sources = "".join(p.read_text() for p in copy.rglob("*.py") if "snapshots" not in p.parts)
    assert "from training." not in sources and "from pfdtrain.compat." in sources
    assert "from pfdtrain import compat as training" in (copy / "packages" / "core" / "__init__.py").read_text()
    assert "from training.optimizers import" in (copy / "snapshots/first_run/train_first_run.py").read_text()
    # the first run: the scan finds evaluate.py reading the checkpoints with v1 keys, the tests fail on the
    # migrated files, and both checkpoints are restored from their backups
    first, second = out.split("pfdtrain upgrade again")
    assert "evaluate.py:19 reads checkpoints with v1 keys ('model_state_dict', 'epoch')" in first
    assert "3 failed, 9 passed" in first and "KeyError: 'model_state_dict'" in first
    assert "restored checkpoints/cnn/best_model.pth" in first and "restored checkpoints/pinn/pinn_best.pth" in first
    assert "The failures go through evaluate.py" in first
    # the demo makes the change the report lists, as a user would: evaluate.py reads v1 and v2 files alike
    evaluate = (copy / "evaluate.py").read_text()
    assert "checkpoint = load_any(checkpoint_path, map_location=\"cpu\")" in evaluate
    assert 'checkpoint["model"]["state_dict"]' in evaluate and "from pfdtrain.checkpoint import load_any" in evaluate
    assert "+    checkpoint = load_any(checkpoint_path" in first + second
    # the second run goes through: nothing reads v1 keys any more, the tests give the same result
    assert "reads checkpoints with v1 keys" not in second.split("Left alone")[0]
    assert second.count("12 passed") >= 2 and "the tests give the same result" in second
    assert not (copy / "packages" / "core" / "training").exists()
    assert list((copy / ".pfdtrain-backup").glob("*/packages/core/training/__init__.py"))
    # both v1 checkpoints are v2 now, with verified backups next to them
    for rel in ("checkpoints/cnn/best_model.pth", "checkpoints/pinn/pinn_best.pth"):
        assert torch.load(copy / rel, weights_only=True)["format"] == "pfdtrain.checkpoint"
        assert (copy / f"{rel}.v1.bak").read_bytes() == original[rel]
    resumed = torch.load(copy / "checkpoints/cnn/resumed.pt", weights_only=True)
    migrated = torch.load(copy / "checkpoints/cnn/best_model.pth", weights_only=True)
    assert resumed["training"]["epoch"] == migrated["training"]["epoch"] + 1  # one more epoch
    assert "snapshots/first_run/training: a vendored copy" in out  # listed as left alone, with why
    assert _tree(bundled_project()) == original  # the bundled project is never touched


def test_demo_refuses_a_folder_it_did_not_create(tmp_path):
    (tmp_path / "legacy_project").mkdir()
    (tmp_path / "legacy_project" / "mine.txt").write_text("keep me")
    result = runner.invoke(app, ["demo", "--workdir", str(tmp_path), "--no-progress"])
    assert result.exit_code == 1 and "was not made by the demo" in result.output
    assert (tmp_path / "legacy_project" / "mine.txt").read_text() == "keep me"


def test_console_scripts_are_installed():
    out = subprocess.run([sys.executable, "-m", "pfdtrain", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("pfdtrain ")
