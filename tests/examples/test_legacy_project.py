"""examples/legacy_project: a legacy-style project whose scripts import only ``training.*``.

Its own tests run unchanged in a fresh interpreter, with ``training.*`` served by the shims
(the finder is installed by pfdtrain's start-up hook, as in a user's environment).
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
    local = {p.stem for p in PROJECT.glob("*.py")} | {"bearing"}
    allowed = {"training", "torch", "argparse", "logging", "math", "pathlib", "shutil", "pytest"} | local
    for path in [*PROJECT.glob("*.py"), *PROJECT.glob("bearing/*.py"), *PROJECT.glob("tests/*.py")]:
        assert _imports(path) <= allowed, f"{path.relative_to(ROOT)} imports {_imports(path) - allowed}"
    uses = set().union(*(_imports(p) for p in PROJECT.glob("*.py")))
    assert "training" in uses and "pfdtrain" not in uses


def test_project_tests_pass_against_the_shims():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    env.pop("PFDTRAIN_DISABLE_SHIMS", None)
    code = "import legacy_shims; legacy_shims.install(); import pytest, sys; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider']))"
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert " passed" in out.stdout
