"""``pfdtrain upgrade PATH``: the demo's journey on a user's repository (issue 11, class 5)."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from pfdtrain.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
ZOO = ROOT / "golden" / "training" / "checkpoints_v1"
PY = shlex.quote(sys.executable)
runner = CliRunner()

# A repository laid out like LSTM-PFD, with its own small stand-in for the legacy package (the
# real one is not ours to copy): the parent re-exports it, a module imports from it, a check script
# uses it, and a config file inside the package folder is read by nobody until case `worse`.
REPO = {
    "packages/__init__.py": "",
    "packages/core/__init__.py": "from . import training\n",
    "packages/core/training/__init__.py": "__all__ = []\n",
    "packages/core/training/optimizers.py": "def get_lr(optimizer):\n    return optimizer.param_groups[0]['lr']\n",
    "packages/core/training/defaults.json": '{"lr": 0.5}\n',
    "app.py": "from packages.core.training.optimizers import get_lr\n",
    "check.py": ("import types\nimport app\nimport packages.core\n"
                 "opt = types.SimpleNamespace(param_groups=[{'lr': 0.5}])\n"
                 "assert app.get_lr(opt) == 0.5\nprint('ok')\n"),
}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for rel, text in REPO.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def invoke(*args: str):
    return runner.invoke(app, ["upgrade", *args], terminal_width=200)


def test_the_whole_journey_ends_with_the_legacy_package_moved_away_and_the_same_outcome(repo):
    result = invoke(str(repo), "--test", f"{PY} check.py", "--remove-legacy")
    assert result.exit_code == 0, result.output
    assert (repo / "app.py").read_text() == "from pfdtrain.compat.optimizers import get_lr\n"
    assert (repo / "packages/core/__init__.py").read_text() == "from pfdtrain import compat as training\n"
    assert not (repo / "packages/core/training").exists()
    [backup] = (repo / ".pfdtrain-backup").glob("*/packages/core/training")
    assert (backup / "optimizers.py").read_text() == REPO["packages/core/training/optimizers.py"]  # moved, not deleted
    out = result.output
    assert "6. tests after the migration (PFDTRAIN_DISABLE_SHIMS=1)" in out
    assert out.count("passed (exit status 0)") >= 2 and "the tests give the same result" in out


def test_when_the_tests_do_worse_the_legacy_package_is_put_back_and_the_exit_status_says_so(repo):
    reads_config = "import json\njson.load(open('packages/core/training/defaults.json'))\n"
    (repo / "check.py").write_text(REPO["check.py"] + reads_config)
    result = invoke(str(repo), "--test", f"{PY} check.py", "--remove-legacy")
    assert result.exit_code == 1, result.output
    assert (repo / "packages/core/training/defaults.json").is_file()  # put back
    assert "do worse" in result.output and "FileNotFoundError" in result.output  # the failing run's output


def test_without_remove_legacy_nothing_of_the_user_is_moved_and_the_report_says_it_is_unused(repo):
    result = invoke(str(repo), "--test", f"{PY} check.py")
    assert result.exit_code == 0, result.output
    assert (repo / "packages/core/training/optimizers.py").is_file() and not (repo / ".pfdtrain-backup").exists()
    assert "nothing imports it any more" in result.output


def test_dry_run_writes_nothing_and_runs_no_test(repo):
    shutil.copy(ZOO / "cnn_trainer_best_model.pth", repo / "best_model.pth")
    before = _tree(repo)
    result = invoke(str(repo), "--dry-run", "--test", "touch ran", "--remove-legacy")
    assert result.exit_code == 0, result.output
    assert _tree(repo) == before and not (repo / "ran").exists()
    assert "would rewrite app.py" in result.output and "dry run" in result.output
    assert "best_model.pth" in result.output


def test_checkpoints_the_scan_finds_are_migrated_with_verified_backups(repo):
    shutil.copy(ZOO / "cnn_trainer_best_model.pth", repo / "best_model.pth")
    original = (repo / "best_model.pth").read_bytes()
    result = invoke(str(repo))
    assert result.exit_code == 0, result.output
    assert torch.load(repo / "best_model.pth", weights_only=True)["format"] == "pfdtrain.checkpoint"
    assert (repo / "best_model.pth.v1.bak").read_bytes() == original
    assert "no --test given" in result.output


def test_skip_checkpoints_leaves_them(repo):
    shutil.copy(ZOO / "cnn_trainer_best_model.pth", repo / "best_model.pth")
    original = (repo / "best_model.pth").read_bytes()
    result = invoke(str(repo), "--skip-checkpoints")
    assert result.exit_code == 0, result.output
    assert (repo / "best_model.pth").read_bytes() == original and not (repo / "best_model.pth.v1.bak").exists()


def test_a_before_run_that_does_not_finish_stops_everything_before_any_change(repo):
    before = _tree(repo)
    result = invoke(str(repo), "--test", "sleep 30", "--timeout", "1")
    assert result.exit_code == 3, result.output
    assert "did not finish" in result.output and _tree(repo) == before


def test_vendored_copies_and_unmapped_names_are_listed_as_left_alone_with_why(repo):
    (repo / "milestones/m1/training").mkdir(parents=True)
    (repo / "milestones/m1/training/__init__.py").write_text("")
    (repo / "milestones/m1/train.py").write_text("from training.optimizers import create_optimizer\n")
    (repo / "extra.py").write_text("from training.losses import create_loss_function\n")
    result = invoke(str(repo))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Left alone" in out and "milestones/m1/training: a vendored copy" in out
    assert "extra.py:1: training.losses.create_loss_function" in out and "never existed" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--remove-legacy"], "--remove-legacy needs --test"),
    (["--skip-checkpoints", "--migrate-checkpoints"], "contradict each other"),
])
def test_bad_options_exit_2_with_what_to_do(repo, args, message):
    result = invoke(str(repo), *args)
    assert result.exit_code == 2 and message in result.output
    assert (repo / "app.py").read_text() == REPO["app.py"]


def test_help_names_every_option():
    text = runner.invoke(app, ["upgrade", "--help"], terminal_width=200).output
    for option in ("--test", "--dry-run", "--remove-legacy", "--skip-checkpoints", "--migrate-checkpoints", "--timeout",
                   "--exclude"):
        assert option in text


# ------------------------------------------------------------------ code that reads the checkpoints itself
# A script of the repository that reads its checkpoint with the v1 keys: it passes on the v1 file and
# fails with KeyError once the file is v2.
READER = ("import torch\n\n\ndef weights(path):\n    checkpoint = torch.load(path, map_location='cpu')\n"
          "    return checkpoint['model_state_dict']\n\n\nassert len(weights('best_model.pth')) > 0\nprint('ok')\n")


@pytest.fixture
def with_checkpoints(repo: Path) -> dict[str, bytes]:
    shutil.copy(ZOO / "cnn_trainer_best_model.pth", repo / "best_model.pth")
    (repo / "runs").mkdir()
    shutil.copy(ZOO / "callbacks_model_checkpoint.pth", repo / "runs" / "last.pth")
    return {rel: (repo / rel).read_bytes() for rel in ("best_model.pth", "runs/last.pth")}


def _checkpoint_files(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(repo.rglob("*"))
            if p.is_file() and (p.suffix == ".pth" or p.name.endswith(".bak"))}


def test_a_worse_test_run_restores_every_migrated_checkpoint_byte_for_byte(repo, with_checkpoints):
    (repo / "reader.py").write_text(READER)
    result = invoke(str(repo), "--test", f"{PY} reader.py", "--remove-legacy")
    assert result.exit_code == 1, result.output
    assert _checkpoint_files(repo) == with_checkpoints  # both v1 files again, no backup left
    out = result.output
    assert "reader.py:5 reads checkpoints with v1 keys ('model_state_dict')" in out  # told before migrating
    assert out.index("read checkpoints with v1 keys and will break") < out.index("migrated")
    assert "KeyError: 'model_state_dict'" in out and "The failures go through reader.py" in out
    assert "restored best_model.pth" in out and "restored runs/last.pth" in out
    assert "2 checkpoint(s) restored byte for byte" in out
    assert "line 6: checkpoint['model_state_dict']  ->  checkpoint['model']['state_dict']" in out  # what to change
    assert (repo / "packages/core/training/optimizers.py").is_file()  # put back too


def test_the_test_run_catches_a_reader_the_scan_cannot_see(repo, with_checkpoints):
    (repo / "reader.py").write_text(READER.replace("checkpoint['model_state_dict']",
                                                   "checkpoint['model_' + 'state_dict']"))
    result = invoke(str(repo), "--test", f"{PY} reader.py")
    assert "reads checkpoints with v1 keys" not in result.output  # a computed key: not found statically
    assert result.exit_code == 1, result.output
    assert _checkpoint_files(repo) == with_checkpoints


def test_with_readers_and_no_test_the_checkpoints_are_left_and_the_lines_to_change_listed(repo, with_checkpoints):
    (repo / "reader.py").write_text(READER)
    result = invoke(str(repo))
    assert result.exit_code == 0, result.output
    assert _checkpoint_files(repo) == with_checkpoints  # untouched: no v2 file, no backup
    out = result.output
    assert "2 left as they are:" in out and "--migrate-checkpoints" in out and "--test CMD" in out
    assert "reader.py:5 reads checkpoints with v1 keys ('model_state_dict')" in out
    assert "line 5: torch.load(path, map_location='cpu')  ->  load_any(path, map_location='cpu')" in out
    assert "checkpoints left as v1 for the readers" in out
    assert (repo / "app.py").read_text() == "from pfdtrain.compat.optimizers import get_lr\n"  # the code still moved


def test_migrate_checkpoints_migrates_despite_readers_and_says_what_breaks(repo, with_checkpoints):
    (repo / "reader.py").write_text(READER)
    result = invoke(str(repo), "--migrate-checkpoints")
    assert result.exit_code == 0, result.output
    for rel, data in with_checkpoints.items():
        assert torch.load(repo / rel, weights_only=True)["format"] == "pfdtrain.checkpoint"
        assert (repo / f"{rel}.v1.bak").read_bytes() == data
    assert "Migrating anyway: --migrate-checkpoints" in result.output
    assert "the code listed below reads them with v1 keys and breaks on them" in result.output


def test_a_dry_run_says_the_checkpoints_would_be_left(repo, with_checkpoints):
    (repo / "reader.py").write_text(READER)
    result = invoke(str(repo), "--dry-run")
    assert result.exit_code == 0 and "2 would be left as they are" in result.output
    assert _checkpoint_files(repo) == with_checkpoints


def test_a_backup_changed_during_the_tests_is_not_restored_and_the_exit_status_says_so(repo, with_checkpoints):
    spoil = ("import os, sys\nif os.path.exists('best_model.pth.v1.bak'):\n"
             "    os.unlink('best_model.pth.v1.bak')\n    open('best_model.pth.v1.bak', 'wb').write(b'x')\n"
             "    sys.exit(1)\n")
    (repo / "spoil.py").write_text(spoil)
    result = invoke(str(repo), "--test", f"{PY} spoil.py")
    assert result.exit_code == 3, result.output
    assert "could not restore best_model.pth" in result.output
    assert torch.load(repo / "best_model.pth", weights_only=True)["format"] == "pfdtrain.checkpoint"  # kept
    assert (repo / "runs" / "last.pth").read_bytes() == with_checkpoints["runs/last.pth"]  # the other one restored
