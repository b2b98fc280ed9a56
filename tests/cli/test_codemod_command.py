"""``pfdtrain codemod``: files found, filtered, rewritten atomically or only diffed/checked."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pfdtrain.cli import codemod as command
from pfdtrain.cli.app import app

runner = CliRunner()

LEGACY = "from training.cnn_trainer import CNNTrainer\nfrom training.cnn_losses import create_loss_function\n"
NEW = "from pfdtrain.compat.cnn_trainer import CNNTrainer\nfrom training.cnn_losses import create_loss_function\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "train.py").write_text(LEGACY)
    (tmp_path / "scripts" / "other.py").write_text("import numpy as np  # training data loader\n")
    (tmp_path / "notes.txt").write_text("from training.cnn_trainer import CNNTrainer\n")
    return tmp_path


def invoke(*args: str):
    return runner.invoke(app, ["codemod", *args])


def test_diff_prints_a_unified_diff_and_writes_nothing(repo):
    result = invoke("--diff", str(repo))
    assert result.exit_code == 0, result.output
    assert "--- a/" in result.stdout and "+++ b/" in result.stdout
    assert ("-from training.cnn_trainer import CNNTrainer\n"
            "+from pfdtrain.compat.cnn_trainer import CNNTrainer\n") in result.stdout
    assert (repo / "scripts" / "train.py").read_text() == LEGACY


def test_check_exits_1_when_files_would_change_and_0_when_clean(repo):
    result = invoke("--check", str(repo))
    assert result.exit_code == 1 and "would rewrite" in result.stderr
    assert (repo / "scripts" / "train.py").read_text() == LEGACY
    assert invoke(str(repo)).exit_code == 0
    assert invoke("--check", str(repo)).exit_code == 0


def test_default_rewrites_in_place_and_lists_unmapped_names(repo):
    other = repo / "scripts" / "other.py"
    before = other.stat().st_mtime_ns
    result = invoke(str(repo))
    assert result.exit_code == 0, result.output
    assert (repo / "scripts" / "train.py").read_text() == NEW
    assert other.stat().st_mtime_ns == before  # untouched, not even rewritten with the same bytes
    assert (repo / "notes.txt").read_text().startswith("from training")  # not a .py file
    assert "unmapped training.cnn_losses.create_loss_function" in result.stderr
    assert "1 legacy names without a mapping" in result.stderr
    assert "rewrote scripts/train.py" in result.stderr.replace(str(repo) + "/", "")


def test_a_file_that_fails_to_parse_is_reported_others_are_still_rewritten(repo):
    (repo / "scripts" / "broken.py").write_text("from training.cnn_trainer import (\n")
    result = invoke(str(repo))
    assert result.exit_code == command.EXIT_FAILED == 3
    assert "broken.py: error: cannot parse" in result.stderr and "1 failed" in result.stderr
    assert (repo / "scripts" / "train.py").read_text() == NEW
    assert (repo / "scripts" / "broken.py").read_text() == "from training.cnn_trainer import (\n"


def test_exclude_globs_hidden_folders_and_virtual_environments_are_skipped(repo):
    for folder in ("vendor/lib", ".git", "venv", "build/x"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "m.py").write_text(LEGACY)
    (repo / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    result = invoke("--exclude", "vendor", "--exclude", "build/*", str(repo))
    assert result.exit_code == 0
    for folder in ("vendor/lib", ".git", "venv", "build/x"):
        assert (repo / folder / "m.py").read_text() == LEGACY, folder
    assert (repo / "scripts" / "train.py").read_text() == NEW


def test_a_file_named_explicitly_is_processed(repo):
    target = repo / "scripts" / "train.py"
    assert invoke(str(target)).exit_code == 0 and target.read_text() == NEW


def test_to_core_moves_safe_names_and_reports_the_rest(tmp_path):
    f = tmp_path / "a.py"
    f.write_text("from training.optimizers import get_lr\nfrom training.cnn_trainer import CNNTrainer\n")
    result = invoke("--to-core", str(tmp_path))
    assert result.exit_code == 0
    assert f.read_text() == "from pfdtrain.optim import get_lr\nfrom pfdtrain.compat.cnn_trainer import CNNTrainer\n"
    assert "kept the legacy-behaviour adapter" in result.stderr and "CNNTrainer" in result.stderr


def test_permissions_are_kept_and_a_symlink_stays_a_link(tmp_path):
    real = tmp_path / "real.py"
    real.write_text(LEGACY)
    real.chmod(0o751)
    link = tmp_path / "sub" / "link.py"
    link.parent.mkdir()
    link.symlink_to(real)
    assert invoke(str(link)).exit_code == 0
    assert link.is_symlink() and real.read_text() == NEW
    assert stat.S_IMODE(real.stat().st_mode) == 0o751


def test_the_file_is_never_touched_before_its_replacement_is_complete(tmp_path, monkeypatch):
    f = tmp_path / "a.py"
    f.write_text(LEGACY)

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(command.os, "fsync", fail)
    result = invoke(str(tmp_path))
    assert result.exit_code == 3 and "No space left" in result.stderr
    assert f.read_text() == LEGACY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]  # no temporary file left behind


def test_a_file_edited_while_the_codemod_ran_is_not_overwritten(tmp_path, monkeypatch):
    f = tmp_path / "a.py"
    f.write_text(LEGACY)
    real = command.process_file

    def edit_meanwhile(path, opts, root=None):
        outcome = real(path, opts, root)
        Path(path).write_text(LEGACY + "x = 1\n")
        return outcome

    monkeypatch.setattr(command, "process_file", edit_meanwhile)
    result = invoke(str(tmp_path))
    assert result.exit_code == 3 and "changed on disk" in result.stderr
    assert f.read_text() == LEGACY + "x = 1\n"


def test_parallel_jobs_give_the_same_result_as_one(tmp_path):
    sources = {}
    for i in range(40):
        text = (f"from training.optimizers import create_optimizer, get_lr\nopt = create_optimizer(p{i}, 'sgd')\n"
                if i % 2 else f"x = {i}  # training\n")
        sources[f"m{i}.py"] = text
    outputs = []
    for jobs in ("1", "2"):
        folder = tmp_path / jobs
        folder.mkdir()
        for name, text in sources.items():
            (folder / name).write_text(text)
        result = invoke("--jobs", jobs, "--replace-deprecated", str(folder))
        assert result.exit_code == 0, result.output
        outputs.append({name: (folder / name).read_text() for name in sources})
    assert outputs[0] == outputs[1]
    assert outputs[0]["m1.py"].startswith("from pfdtrain.compat.cnn_optimizer import create_optimizer\n")


def test_diff_of_a_latin1_file_is_readable_and_nothing_is_written(tmp_path):
    f = tmp_path / "a.py"
    data = "# -*- coding: latin-1 -*-\nfrom training.cnn_trainer import CNNTrainer\nA = 'Müller'\n".encode("latin-1")
    f.write_bytes(data)
    result = invoke("--diff", str(f))
    assert "+from pfdtrain.compat.cnn_trainer import CNNTrainer" in result.stdout
    assert f.read_bytes() == data


def test_prefilter_sends_only_import_shaped_files_to_the_parser(tmp_path, monkeypatch):
    files = {
        "imports.py": "from training.cnn_trainer import CNNTrainer\n",
        "string.py": "TARGET = 'training.cnn_trainer.CNNTrainer'\n",
        "word.py": "# training loop\ntraining = True\nmodel.training = False\nx = 'training'\n",
        "other_lib.py": "from mytraining import x\nimport training_utils\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    seen = []
    real = command.process_file
    monkeypatch.setattr(command, "process_file",
                        lambda path, opts, root=None: seen.append(Path(path).name) or real(path, opts, root))
    assert invoke("--check", str(tmp_path)).exit_code == 1
    assert sorted(seen) == ["imports.py", "string.py"]


def test_verbose_lists_every_rewritten_reference(tmp_path):
    (tmp_path / "a.py").write_text("from training.cnn_trainer import CNNTrainer\nX = 'training.losses.FocalLoss'\n")
    result = invoke("--check", "--verbose", str(tmp_path))
    assert ("a.py:1: rewritten training.cnn_trainer.CNNTrainer -> pfdtrain.compat.cnn_trainer.CNNTrainer"
            in result.stderr)
    assert "a.py:2: rewritten training.losses.FocalLoss -> pfdtrain.compat.losses.FocalLoss" in result.stderr


@pytest.fixture
def layered(tmp_path: Path) -> Path:
    """The legacy package, its parent re-exporting it, and a milestone with its own copy."""
    files = {
        "packages/core/__init__.py": "from . import models\nfrom . import training\n",
        "packages/core/models.py": "X = 1\n",
        "packages/core/training/__init__.py": "__all__ = []\n",
        "packages/core/training/mixed_precision.py": "from .trainer import Trainer\n",
        "milestones/m1/training/__init__.py": "",
        "milestones/m1/training/optimizers.py": "def create_optimizer(p):\n    return p\n",
        "milestones/m1/scripts/train.py": "from training.optimizers import create_optimizer\n",
        "scripts/train.py": "from training.optimizers import create_optimizer\nopt = create_optimizer(p, 'sgd')\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_relative_parent_import_vendored_copies_and_the_legacy_package_in_one_run(layered):
    result = invoke(str(layered))
    assert result.exit_code == 0, result.output
    assert (layered / "packages/core/__init__.py").read_text() == (
        "from . import models\nfrom pfdtrain import compat as training\n")
    assert (layered / "scripts/train.py").read_text() == (  # the default keeps the warning adapter
        "from pfdtrain.compat.optimizers import create_optimizer\nopt = create_optimizer(p, 'sgd')\n")
    assert (layered / "milestones/m1/scripts/train.py").read_text() == (
        "from training.optimizers import create_optimizer\n")
    assert (layered / "packages/core/training/mixed_precision.py").read_text() == "from .trainer import Trainer\n"
    err = result.stderr
    assert "resolves to the vendored copy milestones/m1/training" in err
    assert "1 references left because they resolve to vendored copies (milestones/m1/training: 1" in err
    assert "packages/core/training: the legacy package itself" in err
    assert "Behaviour-changing" not in err
    again = invoke("--check", str(layered))
    assert again.exit_code == 0 and "would rewrite 0" in again.stderr


def test_opt_in_rewrites_that_change_behaviour_are_listed_in_the_summary(layered):
    result = invoke("--replace-deprecated", str(layered))
    assert result.exit_code == 0, result.output
    assert "create_optimizer(optimizer_type='sgd', model_params=p)" in (layered / "scripts/train.py").read_text()
    assert "Behaviour-changing rewrites (1, opted in):" in result.stderr
    assert "scripts/train.py:2: training.optimizers.create_optimizer" in result.stderr.replace(str(layered) + "/", "")


def test_include_vendored_rewrites_the_copies(layered):
    result = invoke("--include-vendored", str(layered))
    assert result.exit_code == 0, result.output
    assert (layered / "milestones/m1/scripts/train.py").read_text() == (
        "from pfdtrain.compat.optimizers import create_optimizer\n")


def test_help_explains_the_flags_that_change_behaviour():
    text = runner.invoke(app, ["codemod", "--help"], terminal_width=200).output
    assert "--replace-deprecated" in text and "--to-core" in text and "--include-vendored" in text
    assert text.count("CHANGES BEHAVIOUR") == 2


def test_without_a_path_the_current_folder_is_rewritten(repo, monkeypatch):
    monkeypatch.chdir(repo)
    result = invoke()
    assert result.exit_code == 0, result.output
    assert (repo / "scripts" / "train.py").read_text() == NEW
