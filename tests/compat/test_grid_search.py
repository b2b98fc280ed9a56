"""Legacy GridSearchOptimizer where scikit-learn is not installed: pfdtrain's GridSearchCV stand-in
on Optuna's GridSampler, with a tiny numpy estimator. (With scikit-learn the adapter uses
scikit-learn itself: test_search_with_scikit_learn.py.)"""

import sys
from types import ModuleType
from unittest import mock

import numpy as np
import optuna
import pytest

from estimator_testing import Threshold, threshold_data
from pfdtrain.compat import _search_standins, grid_search
from pfdtrain.errors import ConfigurationError

GridSearchOptimizer = grid_search.GridSearchOptimizer


@pytest.fixture(autouse=True)
def without_scikit_learn(monkeypatch):
    """The module as imported without scikit-learn: the stand-in in its globals."""
    monkeypatch.setattr(grid_search, "GridSearchCV", _search_standins.GridSearchCV)


class Wrapper:
    """Like the project's classical model classes: the scikit-learn estimator sits in .model."""

    def __init__(self, model):
        self.model = model


GRID = {"feature": [0, 1], "threshold": [-0.5, 0.3, 0.9]}


@pytest.fixture
def data():
    return threshold_data(150)


@pytest.fixture
def searched(data):
    optimizer = GridSearchOptimizer()
    wrapper = Wrapper(Threshold())
    best = optimizer.search(wrapper, *data, GRID)
    return optimizer, wrapper, best


def test_search_picks_the_params_that_fit_the_data(searched, capsys):
    optimizer, wrapper, best = searched
    assert best == {"feature": 1, "threshold": 0.3}
    assert optimizer.get_best_score() == 1.0
    results = optimizer.get_results()
    assert set(results) == {"best_params", "best_score", "cv_results"}
    cv = results["cv_results"]
    for key in ("params", "mean_test_score", "std_test_score", "mean_train_score", "rank_test_score"):
        assert isinstance(cv[key], list) and len(cv[key]) == 6
    assert cv["params"][cv["rank_test_score"].index(1)] == best
    assert not hasattr(wrapper.model, "fitted_")  # searched copies of model.model, not the wrapper
    assert optimizer.grid_search.best_estimator_.fitted_
    assert isinstance(optimizer.grid_search.study_.sampler, optuna.samplers.GridSampler)


def test_prints_scikit_learns_verbose_line(data, capsys):
    GridSearchOptimizer().search(Threshold(), *data, GRID, cv=3)
    assert capsys.readouterr().out.splitlines()[0] == "Fitting 3 folds for each of 6 candidates, totalling 18 fits"


def test_every_grid_point_is_fitted_once_per_fold(data):
    fits = []

    class Counting(Threshold):
        def fit(self, X, y):
            fits.append((self.feature, self.threshold, len(X)))
            return self

    GridSearchOptimizer().search(Counting(), *data, GRID, cv=5)
    searched = fits[:-1]  # the last fit is the refit on all the data
    assert sorted({(f, t) for f, t, _ in searched}) == sorted((f, t) for f in (0, 1) for t in (-0.5, 0.3, 0.9))
    assert len(searched) == 30 and fits[-1] == (1, 0.3, 150)


def test_model_without_a_model_attribute_and_explicit_splits(data):
    X, y = data
    splits = ((np.arange(100), np.arange(100, 150)), (np.arange(50, 150), np.arange(50)))
    optimizer = GridSearchOptimizer()
    best = optimizer.search(Threshold(feature=1), X, y, {"threshold": [0.0, 0.3]}, cv=iter(splits))
    assert best == {"threshold": 0.3} and optimizer.get_best_score() == 1.0
    cv = optimizer.get_results()["cv_results"]
    assert "split1_test_score" in cv and "split2_test_score" not in cv
    assert cv["mean_test_score"][0] < 1.0


def test_before_a_search_every_accessor_says_so():
    optimizer = GridSearchOptimizer()
    for call in (optimizer.get_results, optimizer.get_best_score, lambda: optimizer.plot_grid_results("C", "gamma")):
        with pytest.raises(ValueError, match=r"^Grid search has not been run$"):
            call()


def test_default_param_grids():
    assert grid_search.get_default_param_grid("SVM") == {
        "C": [0.1, 1, 10, 100], "gamma": [0.01, 0.1, 1, 10], "kernel": ["rbf", "poly"]}
    assert GridSearchOptimizer().get_default_param_grid("GradientBoosting")["subsample"] == [0.6, 0.8, 1.0]
    assert grid_search.get_default_param_grid("MLP")["hidden_layer_sizes"] == [(20, 10), (30, 15), (40, 20)]
    with pytest.raises(ValueError, match=r"^Unknown model name: XGBoost$"):
        grid_search.get_default_param_grid("XGBoost")


@pytest.mark.parametrize(
    ("grid", "error", "match"),
    [
        ({"C": 1.0}, TypeError, r"Parameter grid for parameter 'C' needs to be a list or a numpy array, but got 1.0"),
        ({"kernel": "rbf"}, TypeError, r"needs to be a list or a numpy array, but got 'rbf' \(of type str\)"),
        ({"C": []}, ValueError, r"Parameter grid for parameter 'C' need to be a non-empty sequence"),
        ({"C": np.ones((2, 2))}, ValueError, r"Parameter array for 'C' should be one-dimensional"),
        ([{"C": [1]}], ConfigurationError, r"A list of grids needs scikit-learn"),
        ("C", TypeError, r"Parameter grid should be a dict or a list"),
    ],
)
def test_param_grid_checks(data, grid, error, match):
    with pytest.raises(error, match=match):
        GridSearchOptimizer().search(Threshold(), *data, grid)


def test_plot_without_matplotlib_says_what_is_missing(searched, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"GridSearchOptimizer.plot_grid_results needs matplotlib, which is not "
                                          "installed. Install it with: pip install matplotlib"):
        searched[0].plot_grid_results("threshold", "feature")


def fake_pyplot(monkeypatch):
    plt = mock.MagicMock(name="pyplot")
    fig, ax = mock.MagicMock(name="fig"), mock.MagicMock(name="ax")
    plt.subplots.return_value = (fig, ax)
    package = ModuleType("matplotlib")
    package.pyplot = plt
    monkeypatch.setitem(sys.modules, "matplotlib", package)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", plt)
    return plt, fig, ax


def test_plot_grid_results_draws_the_mean_scores(searched, monkeypatch, tmp_path):
    _plt, fig, ax = fake_pyplot(monkeypatch)
    optimizer = searched[0]
    assert optimizer.plot_grid_results("threshold", "feature", save_path=tmp_path / "g.png") is fig
    matrix = ax.imshow.call_args[0][0]
    cv = optimizer.get_results()["cv_results"]
    assert matrix.shape == (2, 3)  # rows: feature, columns: threshold
    assert matrix.ravel().tolist() == cv["mean_test_score"]
    assert matrix[1, 1] == 1.0
    fig.savefig.assert_called_once_with(tmp_path / "g.png", dpi=300, bbox_inches="tight")
    with pytest.raises(ValueError, match="Unknown parameter 'C'; searched parameters: feature, threshold"):
        optimizer.plot_grid_results("C", "feature")
