"""Every command the README shows is run here (or, for the two set-up commands and torchrun, by the
test named below), so the user guide cannot drift from the tools."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ZOO = ROOT / "golden" / "training" / "checkpoints_v1"

# Commands exercised elsewhere: the install + demo and the test command by CI itself (checked
# against .ci/run in tests/test_readme.py), torchrun by tests/plugins/test_ddp.py.
ELSEWHERE = {
    "python3 -m venv": ROOT / "tests" / "test_readme.py",
    ".venv/bin/python -m pytest": ROOT / "tests" / "test_readme.py",
    "torchrun --nproc_per_node": ROOT / "tests" / "plugins" / "test_ddp.py",
}


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```bash\n(.*?)\n```", text, re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                lines.append(command)
    return lines


def _argv(command: str, repo: Path) -> list[str]:
    argv = shlex.split(command.replace("path/to/repo", str(repo)))
    if argv[0].startswith(".venv/bin/"):
        argv[0] = str(BIN / argv[0].removeprefix(".venv/bin/"))
    elif argv[0] == "python":
        argv[0] = sys.executable
    return argv


def _run(argv, cwd, timeout=120):
    env = {k: v for k, v in os.environ.items() if k != "PFDTRAIN_DISABLE_SHIMS"}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])  # `python` in a README command is the venv's
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_every_readme_command_is_known():
    known = ("python -W", ".venv/bin/migrate-checkpoint", ".venv/bin/pfdtrain scan", ".venv/bin/pfdtrain codemod",
             ".venv/bin/pfdtrain upgrade")
    for command in readme_commands():
        assert command.startswith(known) or any(command.startswith(k) for k in ELSEWHERE), command
    for prefix, test in ELSEWHERE.items():
        assert test.is_file(), (prefix, test)
    assert "torch.distributed.run" in (ROOT / "tests" / "plugins" / "test_ddp.py").read_text()


def test_legacy_import_warning_command():
    [command] = [c for c in readme_commands() if c.startswith("python -W")]
    out = _run(_argv(command, ROOT), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "LegacyImportWarning" in out.stderr and "from pfdtrain.losses import FocalLoss" in out.stderr


@pytest.mark.slow
def test_migrate_commands_in_readme_order(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in ("cnn_trainer_best_model.pth", "callbacks_model_checkpoint.pth", "bare_state_dict.pth"):
        shutil.copy(ZOO / name, runs / name)
    before = {p.name: p.read_bytes() for p in runs.iterdir()}
    commands = [c for c in readme_commands() if c.startswith(".venv/bin/migrate-checkpoint")]
    assert [c.split()[2] for c in commands] == ["--dry-run", "--check", "--report", "--output"]
    expected_codes = [0, 1, 0, 0]
    for command, code in zip(commands, expected_codes, strict=True):
        if "--output" in command:  # the README's alternative to in-place: start again from the v1 files
            shutil.rmtree(runs)
            runs.mkdir()
            for name, data in before.items():
                (runs / name).write_bytes(data)
        out = _run(_argv(command, tmp_path), cwd=tmp_path)
        assert out.returncode == code, (command, out.stdout, out.stderr)
        if "--dry-run" in command or "--check" in command:
            assert {p.name: p.read_bytes() for p in runs.iterdir()} == before  # wrote nothing
        if "--report" in command:
            assert (tmp_path / "migration.json").is_file()
            assert sorted(p.name for p in runs.iterdir() if p.name.endswith(".v1.bak")) == \
                sorted(f"{n}.v1.bak" for n in before)
    assert sorted(p.name for p in (tmp_path / "runs_v2").iterdir()) == sorted(before)
    assert {p.name: p.read_bytes() for p in runs.iterdir()} == before  # --output leaves the inputs alone


@pytest.mark.slow
def test_scan_and_codemod_commands_in_readme_order(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "legacy_project", repo,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    sources = {p: p.read_bytes() for p in repo.rglob("*.py")}
    commands = [c for c in readme_commands() if c.startswith((".venv/bin/pfdtrain scan", ".venv/bin/pfdtrain codemod"))]
    assert len(commands) == 4
    scan = _run(_argv(commands[0], tmp_path), cwd=tmp_path)
    assert scan.returncode == 0 and "train_cnn.py" in scan.stdout and "cnn_trainer" in scan.stdout
    diff = _run(_argv(commands[1], tmp_path), cwd=tmp_path)
    assert diff.returncode == 0 and "+from pfdtrain.compat.cnn_trainer import CNNTrainer" in diff.stdout
    assert {p: p.read_bytes() for p in repo.rglob("*.py")} == sources  # --diff wrote nothing
    write = _run(_argv(commands[2], tmp_path), cwd=tmp_path)
    assert write.returncode == 0, write.stderr
    assert b"from training." not in (repo / "train_cnn.py").read_bytes()
    check = _run(_argv(commands[3], tmp_path), cwd=tmp_path)
    assert check.returncode == 0, check.stderr  # nothing left to rewrite


@pytest.mark.slow
def test_upgrade_commands_in_readme_order(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "legacy_project", repo,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    dry, run = [c for c in readme_commands() if c.startswith(".venv/bin/pfdtrain upgrade")]
    out = _run(_argv(dry, repo), cwd=tmp_path)  # path/to/repo is the project itself
    assert out.returncode == 0, out.stdout + out.stderr
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before  # the dry run wrote nothing
    # the example's evaluate.py reads its checkpoints with the v1 keys (README: "On the bundled example")
    out = _run(_argv(run, repo), cwd=tmp_path, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "evaluate.py:19 reads checkpoints with v1 keys" in out.stdout and "restored" in out.stdout
    assert "12 passed" in out.stdout and "3 failed, 9 passed" in out.stdout  # the project's own tests ran
    checkpoints = [p for p in before if p.suffix == ".pth"]
    assert {p: p.read_bytes() for p in checkpoints} == {p: before[p] for p in checkpoints}  # byte for byte
    assert not list(repo.rglob("*.v1.bak"))
    assert (repo / "packages" / "core" / "training").is_dir()  # put back with them
