"""Legacy RandomSearchOptimizer where scikit-learn is not installed: pfdtrain's RandomizedSearchCV
stand-in on Optuna's RandomSampler(seed), with a tiny numpy estimator. (With scikit-learn the
adapter uses scikit-learn itself: test_search_with_scikit_learn.py.)"""

import sys
from types import ModuleType, SimpleNamespace
from unittest import mock

import numpy as np
import optuna
import pytest

from estimator_testing import Threshold, threshold_data
from pfdtrain.compat import _search_standins, random_search
from pfdtrain.hpo.distributions import randint, uniform

RandomSearchOptimizer = random_search.RandomSearchOptimizer


@pytest.fixture(autouse=True)
def without_scikit_learn(monkeypatch):
    """The module as imported without scikit-learn/scipy: the stand-ins in its globals."""
    monkeypatch.setattr(random_search, "RandomizedSearchCV", _search_standins.RandomizedSearchCV)
    monkeypatch.setattr(random_search, "uniform", uniform)
    monkeypatch.setattr(random_search, "randint", randint)


DISTRIBUTIONS = {"feature": randint(0, 2), "threshold": uniform(-1, 2)}


@pytest.fixture
def data():
    return threshold_data(150)


def test_search_is_repeatable_with_random_state(data, capsys):
    def run(seed):
        optimizer = RandomSearchOptimizer(random_state=seed)
        best = optimizer.search(SimpleNamespace(model=Threshold()), *data, DISTRIBUTIONS, n_iter=12, cv=3)
        return optimizer, best

    first, best = run(3)
    assert capsys.readouterr().out.splitlines()[0] == "Fitting 3 folds for each of 12 candidates, totalling 36 fits"
    params = first.get_results()["cv_results"]["params"]
    assert run(3)[0].get_results()["cv_results"]["params"] == params
    assert run(4)[0].get_results()["cv_results"]["params"] != params
    assert len(params) == 12 and {p["feature"] for p in params} == {0, 1}
    assert all(-1 <= p["threshold"] <= 1 for p in params)
    assert best["feature"] == 1 and abs(best["threshold"] - 0.3) < 0.2 and first.get_best_score() > 0.9
    study = first.random_search.study_
    assert isinstance(study.sampler, optuna.samplers.RandomSampler) and len(study.trials) == 12


def test_lists_and_scipy_style_objects_are_accepted(data):
    scipy_like = SimpleNamespace(dist=SimpleNamespace(name="uniform"), args=(0.2, 0.2), kwds={}, rvs=None)
    optimizer = RandomSearchOptimizer(random_state=0)
    optimizer.search(Threshold(), *data, {"feature": (0, 1), "threshold": scipy_like}, n_iter=5, cv=2)
    params = optimizer.get_results()["cv_results"]["params"]
    assert all(0.2 <= p["threshold"] <= 0.4 for p in params)


def test_before_a_search_every_accessor_says_so():
    optimizer = RandomSearchOptimizer()
    for call in (optimizer.get_results, optimizer.get_best_score, optimizer.plot_search_results):
        with pytest.raises(ValueError, match=r"^Random search has not been run$"):
            call()


def test_default_param_distributions_have_the_legacy_ranges():
    svm = random_search.get_default_param_distributions("SVM")
    assert svm["C"].support == (0.1, 100.1) and svm["gamma"].support == (0.01, 10.01)
    rf = RandomSearchOptimizer().get_default_param_distributions("RandomForest")
    assert (rf["n_estimators"], rf["max_depth"], rf["min_samples_leaf"]) == (randint(50, 200), randint(5, 30),
                                                                             randint(1, 20))
    assert rf["n_estimators"].support == (50, 199)  # randint excludes its upper bound
    mlp = random_search.get_default_param_distributions("MLP")
    assert mlp["hidden_layer_sizes"] == [(20, 10), (30, 15), (40, 20), (50, 25)]
    assert mlp["alpha"].support == (0.0001, 0.0101)
    gb = random_search.get_default_param_distributions("GradientBoosting")
    assert gb["learning_rate"].support == (0.01, 0.31) and gb["subsample"].support == (0.5, 1.0)
    assert gb["max_depth"] == randint(2, 10)
    with pytest.raises(ValueError, match=r"^Unknown model name: KNN$"):
        random_search.get_default_param_distributions("KNN")


def test_a_value_that_is_neither_a_list_nor_a_distribution(data):
    with pytest.raises(TypeError, match=r"Parameter grid for parameter 'threshold' is not iterable or a distribution"):
        RandomSearchOptimizer().search(Threshold(), *data, {"threshold": 0.3}, n_iter=2)


def test_plot_search_results(data, monkeypatch, tmp_path):
    optimizer = RandomSearchOptimizer(random_state=0)
    optimizer.search(Threshold(), *data, DISTRIBUTIONS, n_iter=4, cv=2)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"RandomSearchOptimizer.plot_search_results needs matplotlib"):
        optimizer.plot_search_results()

    plt, fig, axes = mock.MagicMock(), mock.MagicMock(), np.empty((1, 2), dtype=object)
    axes[0, 0], axes[0, 1] = mock.MagicMock(), mock.MagicMock()
    plt.subplots.return_value = (fig, axes)
    package = ModuleType("matplotlib")
    package.pyplot = plt
    monkeypatch.setitem(sys.modules, "matplotlib", package)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", plt)
    assert optimizer.plot_search_results(save_path=tmp_path / "r.png") is fig
    cv = optimizer.get_results()["cv_results"]
    for ax, name in zip(axes[0], ("feature", "threshold"), strict=False):
        ax.scatter.assert_called_once()
        assert list(ax.scatter.call_args[0][0]) == cv[f"param_{name}"]
        assert list(ax.scatter.call_args[0][1]) == cv["mean_test_score"]
    fig.savefig.assert_called_once()
