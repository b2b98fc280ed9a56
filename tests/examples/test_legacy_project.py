"""examples/legacy_project: a legacy-style project whose scripts import only ``training.*``.

It has the shapes real repositories have: a parent package that re-exports the legacy package
through a relative import (``packages/core``), a vendored copy of the package with its own script
(``snapshots/first_run``), and a test that asserts the legacy deprecation warning. Its own tests
run unchanged in a fresh interpreter, with ``training.*`` served by the shims (the finder is
installed by pfdtrain's start-up hook, as in a user's environment).
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "legacy_project"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_scripts_import_only_legacy_paths_and_their_own_code():
    local = {p.stem for p in PROJECT.glob("*.py")} | {"bearing", "packages"}
    allowed = {"training", "torch", "argparse", "logging", "math", "pathlib", "pytest", "runpy", "sys",
               "warnings"} | local
    sources = sorted(PROJECT.rglob("*.py"))
    for path in sources:
        assert _imports(path) <= allowed, f"{path.relative_to(ROOT)} imports {_imports(path) - allowed}"
    uses = set().union(*(_imports(p) for p in sources))
    assert "training" in uses and "pfdtrain" not in uses


def test_the_shapes_of_a_real_repository_are_there():
    init = (PROJECT / "packages" / "core" / "__init__.py").read_text()
    assert "from . import training" in init  # the parent re-exports the legacy package
    assert (PROJECT / "packages" / "core" / "training" / "__init__.py").is_file()  # the legacy package (stand-in)
    snapshot = PROJECT / "snapshots" / "first_run"
    assert (snapshot / "training" / "optimizers.py").is_file()  # a vendored copy
    assert "sys.path.insert(0, str(HERE))" in (snapshot / "train_first_run.py").read_text()
    assert "DeprecationWarning" in (PROJECT / "tests" / "test_packages.py").read_text()


def test_project_tests_pass_against_the_shims():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    env.pop("PFDTRAIN_DISABLE_SHIMS", None)
    code = ("import legacy_shims; legacy_shims.install(); import pytest, sys; "
            "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider']))")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert " passed" in out.stdout


def test_the_project_reads_its_shipped_checkpoints_itself_and_breaks_on_v2_until_changed(tmp_path):
    """What `pfdtrain upgrade` and the demo guard against: evaluate.py reads the v1 keys."""
    import shutil

    from pfdtrain.checkpoint_readers import apply_edits, edits, find_readers
    from pfdtrain.migration.migrate import migrate_file

    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    [reader] = find_readers([(p.relative_to(copy).as_posix(), p.read_bytes()) for p in copy.rglob("*.py")]).readers
    assert (reader.path, reader.line, reader.keys) == ("evaluate.py", 19, ["model_state_dict", "epoch"])
    for rel in ("checkpoints/cnn/best_model.pth", "checkpoints/pinn/pinn_best.pth"):
        assert migrate_file(copy / rel).status == "migrated"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    env.pop("PFDTRAIN_DISABLE_SHIMS", None)
    code = ("import legacy_shims; legacy_shims.install(); import pytest, sys; "
            "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'tests/test_evaluate.py', '-k', 'shipped']))")

    def run():
        return subprocess.run([sys.executable, "-c", code], cwd=copy, env=env, capture_output=True, text=True,
                              timeout=300)

    broken = run()
    assert broken.returncode == 1 and "KeyError: 'model_state_dict'" in broken.stdout
    assert "3 failed" in broken.stdout
    evaluate = copy / "evaluate.py"
    evaluate.write_text(apply_edits(evaluate.read_text(), edits(reader)))
    fixed = run()
    assert fixed.returncode == 0 and "3 passed" in fixed.stdout, fixed.stdout[-3000:]
