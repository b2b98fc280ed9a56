"""Legacy BayesianOptimizer on Optuna's TPESampler(seed), with stand-in classical model classes."""

import math
import sys
from types import ModuleType
from typing import ClassVar
from unittest import mock

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
bayesian_optimizer = pytest.importorskip("pfdtrain.compat.bayesian_optimizer")
BayesianOptimizer = bayesian_optimizer.BayesianOptimizer
D = optuna.distributions


class Recorded:
    """The legacy classical-model interface: Model(random_state=...).train(X, y, hyperparams=...).score(X, y)."""

    calls: ClassVar[list] = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def train(self, X, y, hyperparams=None):
        self.hyperparams = hyperparams
        Recorded.calls.append((type(self).__name__, self.random_state, len(X), hyperparams))

    def score(self, X, y):
        hp = self.hyperparams
        if "C" in hp:  # best near C = 10, rbf
            return 1.0 - abs(math.log10(hp["C"]) - 1) / 3 - (0.1 if hp["kernel"] == "poly" else 0.0)
        return float(sum(v for v in hp.values() if isinstance(v, (int, float))) % 1)


def model(name):
    return type(name, (Recorded,), {})


@pytest.fixture
def data():
    X = np.zeros((20, 3))
    y = np.arange(20) % 2
    return X[:15], y[:15], X[15:], y[15:]


@pytest.fixture(autouse=True)
def _reset_calls():
    Recorded.calls.clear()


def test_mlp_returns_optunas_raw_names_but_trains_with_hidden_layer_sizes(data):
    optimizer = BayesianOptimizer(random_state=7)
    best = optimizer.optimize(model("MLPClassifier"), *data, n_trials=4)
    assert set(best) == {"n_units_1", "n_units_2", "learning_rate_init", "alpha", "activation"}  # quirk #48
    assert len(Recorded.calls) == 4
    for name, random_state, n_train, hyperparams in Recorded.calls:
        assert (name, random_state, n_train) == ("MLPClassifier", 7, 15)
        assert set(hyperparams) == {"hidden_layer_sizes", "learning_rate_init", "alpha", "max_iter", "activation"}
        assert hyperparams["max_iter"] == 500
        assert 10 <= hyperparams["hidden_layer_sizes"][0] <= 50 and 5 <= hyperparams["hidden_layer_sizes"][1] <= 30
    best_trial = optimizer.get_best_trial_info()
    assert best == best_trial["params"]
    trained = Recorded.calls[best_trial["number"]][3]
    assert trained["hidden_layer_sizes"] == (best["n_units_1"], best["n_units_2"])


def test_the_same_random_state_repeats_the_study(data):
    def run(seed):
        optimizer = BayesianOptimizer(random_state=seed)
        optimizer.optimize(model("SVMClassifier"), *data, n_trials=12)
        return optimizer

    first = run(0)
    history = first.get_optimization_history()
    assert run(0).get_optimization_history() == history
    assert run(1).get_optimization_history()["params"] != history["params"]
    assert history["trial_numbers"] == list(range(12)) and len(history["values"]) == 12
    assert isinstance(first.study.sampler, optuna.samplers.TPESampler)
    assert first.study.direction == optuna.study.StudyDirection.MAXIMIZE
    best = first.get_best_trial_info()
    assert set(best) == {"number", "value", "params"} and best["value"] == max(history["values"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SVMClassifier", {"C": D.FloatDistribution(0.1, 100.0, log=True),
                           "gamma": D.FloatDistribution(0.01, 10.0, log=True),
                           "kernel": D.CategoricalDistribution(["rbf", "poly"])}),
        ("RandomForestClassifier", {"n_estimators": D.IntDistribution(50, 200), "max_depth": D.IntDistribution(5, 30),
                                    "min_samples_leaf": D.IntDistribution(1, 20),
                                    "max_features": D.CategoricalDistribution(["sqrt", "log2"])}),
        ("MLPClassifier", {"n_units_1": D.IntDistribution(10, 50), "n_units_2": D.IntDistribution(5, 30),
                           "learning_rate_init": D.FloatDistribution(1e-4, 0.1, log=True),
                           "alpha": D.FloatDistribution(1e-5, 1e-2, log=True),
                           "activation": D.CategoricalDistribution(["relu", "tanh"])}),
        ("GradientBoostingClassifier", {"n_estimators": D.IntDistribution(50, 200),
                                        "learning_rate": D.FloatDistribution(0.01, 0.3, log=True),
                                        "max_depth": D.IntDistribution(2, 10),
                                        "subsample": D.FloatDistribution(0.5, 1.0)}),
    ],
)
def test_search_spaces_by_model_class_name(data, name, expected):
    optimizer = BayesianOptimizer()
    optimizer.optimize(model(name), *data, n_trials=1)
    assert optimizer.study.trials[0].distributions == expected


def test_unknown_model_type(data):
    with pytest.raises(ValueError, match=r"^Unknown model type: KNNClassifier$"):
        BayesianOptimizer().optimize(model("KNNClassifier"), *data, n_trials=2)
    assert Recorded.calls == []


def test_before_optimize_every_accessor_says_so():
    optimizer = BayesianOptimizer()
    for call in (optimizer.get_optimization_history, optimizer.get_best_trial_info,
                 optimizer.plot_optimization_history, optimizer.plot_param_importances):
        with pytest.raises(ValueError, match=r"^No optimization has been run$"):
            call()


def test_plots(data, monkeypatch, tmp_path):
    optimizer = BayesianOptimizer(random_state=0)
    optimizer.optimize(model("SVMClassifier"), *data, n_trials=6)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"BayesianOptimizer.plot_optimization_history needs matplotlib"):
        optimizer.plot_optimization_history()
    with pytest.raises(ImportError, match=r"BayesianOptimizer.plot_param_importances needs matplotlib"):
        optimizer.plot_param_importances()

    plt, fig, ax = mock.MagicMock(), mock.MagicMock(), mock.MagicMock()
    plt.subplots.return_value = (fig, ax)
    package = ModuleType("matplotlib")
    package.pyplot = plt
    monkeypatch.setitem(sys.modules, "matplotlib", package)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", plt)
    assert optimizer.plot_optimization_history(save_path=tmp_path / "h.png") is fig
    values = optimizer.get_optimization_history()["values"]
    best_so_far = ax.plot.call_args_list[1][0][1]
    assert best_so_far == list(np.maximum.accumulate(values))
    assert optimizer.plot_param_importances() is fig
    names = ax.barh.call_args[0][0]
    assert sorted(names) == ["C", "gamma", "kernel"]
