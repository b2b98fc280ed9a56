"""Default spaces of the classical models (the legacy tables, legacy-api.md 5.4)."""

import pytest

from pfdtrain.errors import ConfigurationError
from pfdtrain.hpo import SearchSpace, default_search_space, randint, uniform


def test_grids():
    svm = default_search_space("SVM")
    assert svm == {"C": [0.1, 1, 10, 100], "gamma": [0.01, 0.1, 1, 10], "kernel": ["rbf", "poly"]}
    names = ("RandomForest", "MLP", "GradientBoosting")
    sizes = {name: len(SearchSpace(default_search_space(name)).grid()) for name in names}
    assert sizes == {"RandomForest": 4, "MLP": 4, "GradientBoosting": 4}
    assert default_search_space("RandomForest")["max_depth"] == [10, 20, 30, None]
    assert default_search_space("MLP")["hidden_layer_sizes"] == [(20, 10), (30, 15), (40, 20)]


def test_random_spaces():
    gb = default_search_space("GradientBoosting", "random")
    assert gb == {"n_estimators": randint(50, 200), "learning_rate": uniform(0.01, 0.3),
                  "max_depth": randint(2, 10), "subsample": uniform(0.5, 0.5)}
    assert gb["subsample"].support == (0.5, 1.0)
    assert default_search_space("MLP", "random")["hidden_layer_sizes"][-1] == (50, 25)
    assert default_search_space("SVM", "random")["C"].support == (0.1, 100.1)


def test_copies_are_fresh():
    default_search_space("SVM")["C"].append(1000)
    assert default_search_space("SVM")["C"] == [0.1, 1, 10, 100]


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ConfigurationError, match="Unknown model name 'XGBoost'; valid: 'SVM', 'RandomForest', 'MLP', "
                                                 "'GradientBoosting'"):
        default_search_space("XGBoost")
    with pytest.raises(ConfigurationError, match="Unknown space kind 'bayes'; valid: 'grid', 'random'"):
        default_search_space("SVM", "bayes")
