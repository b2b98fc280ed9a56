"""Legacy grid and random search with scikit-learn installed (the ``test`` extra pins it): the
adapters hand legacy's arguments to scikit-learn's own search classes, so every value scikit-learn
accepts works and every other raises scikit-learn's error, as in legacy."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import scipy.stats
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._param_validation import InvalidParameterError

from pfdtrain.compat import grid_search, random_search


class Wrapper:
    """Like the legacy classical model classes: the scikit-learn estimator sits in .model."""

    def __init__(self, model):
        self.model = model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 1] > 0.2).astype(int) + (X[:, 2] > 1.0).astype(int)  # 3 classes, feature 1 decides most
    return X, y


def test_the_module_globals_are_scikit_learns_and_scipys():
    assert grid_search.GridSearchCV is GridSearchCV and random_search.RandomizedSearchCV is RandomizedSearchCV
    assert random_search.uniform is scipy.stats.uniform and random_search.randint is scipy.stats.randint


def test_grid_search_hands_legacys_arguments_to_grid_search_cv(monkeypatch, data):
    fake = mock.MagicMock(name="GridSearchCV")
    monkeypatch.setattr(grid_search, "GridSearchCV", fake)
    model = DecisionTreeClassifier()
    best = grid_search.GridSearchOptimizer().search(Wrapper(model), *data, {"max_depth": [1, 2]}, cv=3,
                                                    scoring="f1_macro", n_jobs=2)
    fake.assert_called_once_with(estimator=model, param_grid={"max_depth": [1, 2]}, cv=3, scoring="f1_macro",
                                 n_jobs=2, verbose=1, return_train_score=True)
    fake.return_value.fit.assert_called_once()
    assert best is fake.return_value.best_params_


def test_random_search_hands_legacys_arguments_to_randomized_search_cv(monkeypatch, data):
    fake = mock.MagicMock(name="RandomizedSearchCV")
    monkeypatch.setattr(random_search, "RandomizedSearchCV", fake)
    model = DecisionTreeClassifier()
    random_search.RandomSearchOptimizer(random_state=7).search(model, *data, {"max_depth": [1, 2]}, n_iter=4)
    fake.assert_called_once_with(estimator=model, param_distributions={"max_depth": [1, 2]}, n_iter=4, cv=5,
                                 scoring="accuracy", n_jobs=-1, verbose=1, random_state=7, return_train_score=True)


def test_what_scikit_learn_accepts_works(data, capsys):
    optimizer = grid_search.GridSearchOptimizer()
    grids = [{"max_depth": [1, 2], "criterion": ["gini"]}, {"max_depth": [3], "criterion": ["entropy"]}]
    best = optimizer.search(Wrapper(DecisionTreeClassifier(random_state=0)), *data, grids, cv=3,
                            scoring="balanced_accuracy", n_jobs=1)
    assert "Fitting 3 folds for each of 3 candidates, totalling 9 fits" in capsys.readouterr().out
    assert best in ({"max_depth": 1, "criterion": "gini"}, {"max_depth": 2, "criterion": "gini"},
                    {"max_depth": 3, "criterion": "entropy"})
    results = optimizer.get_results()
    assert isinstance(results["cv_results"]["mean_test_score"], np.ndarray)
    assert optimizer.get_best_score() == results["best_score"] > 0.5


def test_what_scikit_learn_rejects_raises_its_error(data):
    for scoring in ("f1_macro_typo", 3):
        with pytest.raises(InvalidParameterError) as direct:
            GridSearchCV(DecisionTreeClassifier(), {"max_depth": [1]}, scoring=scoring).fit(*data)
        with pytest.raises(InvalidParameterError) as legacy:
            grid_search.GridSearchOptimizer().search(DecisionTreeClassifier(), *data, {"max_depth": [1]},
                                                     scoring=scoring, n_jobs=1)
        assert str(legacy.value) == str(direct.value)
    with pytest.raises(ValueError, match="max_depth") as legacy_error:
        random_search.RandomSearchOptimizer().search(DecisionTreeClassifier(), *data, {"max_depth": [-1]},
                                                     n_iter=1, n_jobs=1)
    assert "Got -1" in str(legacy_error.value) or "got -1" in str(legacy_error.value)


def test_random_search_is_scikit_learns_draw_for_the_seed(data):
    space = {"max_depth": scipy.stats.randint(1, 6), "min_samples_leaf": [1, 2, 3]}
    optimizer = random_search.RandomSearchOptimizer(random_state=3)
    optimizer.search(DecisionTreeClassifier(random_state=0), *data, space, n_iter=5, cv=3, n_jobs=1)
    direct = RandomizedSearchCV(DecisionTreeClassifier(random_state=0), space, n_iter=5, cv=3, random_state=3,
                                scoring="accuracy", return_train_score=True).fit(*data)
    assert optimizer.get_results()["cv_results"]["params"] == direct.cv_results_["params"]
    assert optimizer.get_best_score() == direct.best_score_


def test_default_distributions_are_scipys_with_the_legacy_ranges():
    svm = random_search.get_default_param_distributions("SVM")
    assert isinstance(svm["C"], scipy.stats._distn_infrastructure.rv_continuous_frozen)
    assert svm["C"].support() == (0.1, 100.1) and svm["gamma"].support() == (0.01, 10.01)
    rf = random_search.get_default_param_distributions("RandomForest")
    assert rf["n_estimators"].support() == (50, 199)  # randint excludes its upper bound
    gb = random_search.get_default_param_distributions("GradientBoosting")
    assert gb["subsample"].support() == (0.5, 1.0) and gb["max_depth"].support() == (2, 9)
