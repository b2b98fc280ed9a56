"""SearchSpace: each kind becomes the right Optuna distribution; grids; decoding; bad specs."""

import numpy as np
import pytest

from pfdtrain.errors import ConfigurationError
from pfdtrain.hpo import SearchSpace, randint, suggest, uniform

optuna = pytest.importorskip("optuna")
D = optuna.distributions


def ask():
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()


def test_each_kind_maps_to_its_optuna_distribution():
    trial = ask()
    params = suggest(trial, {
        "a": ("float", 0.0, 1.0),
        "b": ("float", 0.0, 1.0, 0.25),
        "c": ("log_float", 1e-4, 1e-1),
        "d": ("int", 1, 9, 2),
        "e": ("log_int", 1, 64),
        "f": ("categorical", ["x", "y"]),
        "g": [16, 32],
        "h": uniform(0.1, 100),
        "i": randint(50, 200),
    })
    assert list(params) == list("abcdefghi")
    assert trial.distributions == {
        "a": D.FloatDistribution(0.0, 1.0),
        "b": D.FloatDistribution(0.0, 1.0, step=0.25),
        "c": D.FloatDistribution(1e-4, 1e-1, log=True),
        "d": D.IntDistribution(1, 9, step=2),
        "e": D.IntDistribution(1, 64, log=True),
        "f": D.CategoricalDistribution(["x", "y"]),
        "g": D.CategoricalDistribution([16, 32]),
        "h": D.FloatDistribution(0.1, 100.1),
        "i": D.IntDistribution(50, 199),
    }
    assert params["d"] in (1, 3, 5, 7, 9)


def test_choices_optuna_cannot_store_are_labelled_and_decoded():
    space = SearchSpace({"hidden": [(20, 10), (30, 15)], "depth": [None, 3], "n": np.array([1, 2])})
    trial = ask()
    params = space.suggest(trial)
    assert params["hidden"] in [(20, 10), (30, 15)]
    assert trial.params["hidden"] == repr(params["hidden"])
    assert params["depth"] in (None, 3) and trial.params["depth"] == params["depth"]
    assert type(params["n"]) is int  # ndarray choices become Python values
    assert space.decode(trial.params) == params
    assert space.grid()["hidden"] == ["(20, 10)", "(30, 15)"]


def test_grid_values():
    space = SearchSpace({"a": ("int", 2, 8, 3), "b": ("float", 0.0, 1.0, 0.5), "c": randint(1, 4), "d": ["p", "q"]})
    assert space.grid() == {"a": [2, 5, 8], "b": [0.0, 0.5, 1.0], "c": [1, 2, 3], "d": ["p", "q"]}
    for entry in (("float", 0.0, 1.0), ("log_float", 1e-3, 1.0), uniform(0, 1)):
        with pytest.raises(ConfigurationError, match=r"'x' .* has no finite grid; give grid search a list"):
            SearchSpace({"x": entry}).grid()


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        (("normal", 0, 1), r"'x': unknown kind 'normal'; valid kinds: 'categorical', 'float', 'int', 'log_float', "
                           r"'log_int' \(or a list of choices\)"),
        (("relu", "tanh"), r"unknown kind 'relu'.*put choices in a list"),
        (("float", 0.0), r"expected \('float', low, high, step\)"),
        (("log_float", 1e-3, 1.0, 0.1), r"expected \('log_float', low, high\)"),
        (("int", 0.5, 3), r"must be an int; received float 0.5"),
        (("float", 2.0, 1.0), r"low \(2.0\) is greater than high \(1.0\)"),
        (("log_float", 0.0, 1.0), r"needs low > 0"),
        (("int", 0, 4, 0), r"step must be > 0"),
        (("categorical", "ab"), r"expected \('categorical', \[choices\]\)"),
        ([], r"'x' has no choices"),
        (5, r"'x' must be a \(kind, \.\.\.\) tuple, a list of choices or a distribution.*received int 5"),
    ],
)
def test_bad_entries_name_the_entry_and_what_is_valid(entry, match):
    with pytest.raises(ConfigurationError, match=match):
        SearchSpace({"x": entry})


def test_a_space_must_be_a_mapping_of_names():
    with pytest.raises(ConfigurationError, match="A search space is a dict"):
        SearchSpace([("lr", ("float", 0, 1))])
    with pytest.raises(ConfigurationError, match="names must be strings"):
        SearchSpace({1: [0]})
