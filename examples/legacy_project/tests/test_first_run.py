"""The first run's script uses the training package frozen beside it, not the legacy one."""

import runpy
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "snapshots" / "first_run" / "train_first_run.py"


@pytest.fixture
def fresh_interpreter_imports():
    """Run the script as in a new interpreter: no `training` modules imported yet; restored after."""
    saved_path = list(sys.path)
    saved = {name: sys.modules.pop(name) for name in list(sys.modules)
             if name in ("training", "bearing") or name.startswith(("training.", "bearing."))}
    yield
    for name in [n for n in sys.modules if n in ("training", "bearing") or n.startswith(("training.", "bearing."))]:
        del sys.modules[name]
    sys.modules.update(saved)
    sys.path[:] = saved_path


def test_the_snapshot_script_runs_its_own_training_copy(fresh_interpreter_imports, capsys):
    runpy.run_path(str(SCRIPT), run_name="__main__")
    assert capsys.readouterr().out.strip() == "optimizer SGD lr=0.05 momentum=0"  # the legacy factory builds Adam
    assert sys.modules["training"].__file__ == str(SCRIPT.parent / "training" / "__init__.py")
