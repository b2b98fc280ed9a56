"""Without the hpo extra: importing is free, using it names `pip install 'pfdtrain[hpo]'`.

Runs in a fresh interpreter so that blocking ``optuna`` (``sys.modules["optuna"] = None``, which
makes ``import optuna`` fail) cannot leak into, or be masked by, this test process.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pfdtrain.errors import MissingExtraError

SCRIPT = textwrap.dedent(
    """
    import importlib, sys
    modules = ["pfdtrain.hpo", "pfdtrain.hpo.study", "pfdtrain.hpo.pruning", "pfdtrain.hpo.space",
               "pfdtrain.hpo.estimator_search", "pfdtrain.hpo.cv", "pfdtrain.hpo.defaults",
               "pfdtrain.hpo.distributions"]
    for name in modules:
        importlib.import_module(name)
    import pfdtrain.hpo as hpo
    hpo.tune, hpo.OptunaPruning, hpo.GridSearch
    print("imported optuna:", "optuna" in sys.modules)

    sys.modules["optuna"] = None  # what an environment without the extra looks like
    sys.modules["sklearn"] = None  # the legacy search adapters need optuna only without scikit-learn
    from pfdtrain.errors import MissingExtraError
    import numpy as np
    calls = {
        "tune": lambda: hpo.tune(lambda trial: None, 1),
        "GridSearch": lambda: hpo.GridSearch(type("E", (), {"fit": lambda *a: None})(), {"a": [1]}).fit(
            np.zeros((4, 1)), np.array([0, 1, 0, 1])),
        "grid_search": lambda: importlib.import_module("pfdtrain.compat.grid_search"),
        "random_search": lambda: importlib.import_module("pfdtrain.compat.random_search"),
        "bayesian_optimizer": lambda: importlib.import_module("pfdtrain.compat.bayesian_optimizer"),
    }
    for label, call in calls.items():
        try:
            call()
        except MissingExtraError as exc:
            print(label, "|", isinstance(exc, ImportError), "|", exc)
        else:
            print(label, "| no error")
    """
)


@pytest.fixture(scope="module")
def output():
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_importing_pfdtrain_hpo_does_not_import_optuna(output):
    assert output[0] == "imported optuna: False"


@pytest.mark.parametrize(
    ("label", "feature"),
    [
        ("tune", "pfdtrain.hpo.tune"),
        ("GridSearch", "pfdtrain.hpo.GridSearch"),
        ("grid_search", "training.grid_search"),
        ("random_search", "training.random_search"),
        ("bayesian_optimizer", "training.bayesian_optimizer"),
    ],
)
def test_using_it_without_optuna_names_the_extra(output, label, feature):
    line = next(text for text in output if text.startswith(f"{label} |"))
    assert line == (
        f"{label} | True | {feature} needs the optional dependency 'optuna', which is not installed. "
        "Install it with: pip install 'pfdtrain[hpo]'"
    )


def test_missing_extra_error_is_an_import_error():
    assert issubclass(MissingExtraError, ImportError)
