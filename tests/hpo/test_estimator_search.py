"""Grid / random / TPE search of a tiny numpy estimator, run by Optuna's samplers."""

import numpy as np
import pytest

from estimator_testing import Threshold, threshold_data
from pfdtrain.errors import ConfigurationError
from pfdtrain.hpo import BayesianSearch, EstimatorSearch, GridSearch, RandomSearch, uniform

optuna = pytest.importorskip("optuna")


@pytest.fixture
def data():
    return threshold_data(120)


def test_grid_search_finds_the_right_params_and_reports_like_scikit_learn(data):
    estimator = Threshold()
    search = GridSearch(estimator, {"threshold": [-0.5, 0.3, 0.9], "feature": [0, 1]}, cv=4, seed=1).fit(*data)
    assert search.best_params_ == {"feature": 1, "threshold": 0.3}
    assert search.best_score_ == 1.0
    results = search.cv_results_
    # ParameterGrid order: names sorted, the last one varying fastest
    assert results["params"] == [{"feature": f, "threshold": t} for f in (0, 1) for t in (-0.5, 0.3, 0.9)]
    assert results["param_threshold"] == [-0.5, 0.3, 0.9] * 2
    assert results["rank_test_score"][search.best_index_] == 1 and search.best_index_ == 4
    assert sorted(results["rank_test_score"]) == [1, 2, 3, 4, 5, 6]
    assert len(results["split3_test_score"]) == 6 and "split4_test_score" not in results
    assert np.allclose(results["mean_test_score"], np.mean([results[f"split{i}_test_score"] for i in range(4)], axis=0))
    assert len(results["mean_train_score"]) == len(results["std_test_score"]) == len(results["mean_fit_time"]) == 6
    assert search.n_splits_ == 4
    assert (estimator.fits, estimator.feature, estimator.threshold) == (0, 0, 0.0)  # only copies were fitted
    assert search.best_estimator_.fits == 1 and search.score(*data) == 1.0
    assert isinstance(search.study_.sampler, optuna.samplers.GridSampler) and len(search.study_.trials) == 6


def test_grid_of_tuples_and_none(data):
    class Tagged(Threshold):
        def __init__(self, feature=0, threshold=0.0, tag=None):
            super().__init__(feature, threshold)
            self.tag = tag

        def get_params(self, deep=True):
            return {**super().get_params(), "tag": self.tag}

    search = GridSearch(Tagged(feature=1), {"tag": [(20, 10), None], "threshold": [0.3]}, cv=2).fit(*data)
    assert [p["tag"] for p in search.cv_results_["params"]] == [(20, 10), None]
    assert search.best_params_ == {"tag": (20, 10), "threshold": 0.3}


def test_grid_search_refuses_continuous_entries_and_sampler_choice():
    with pytest.raises(ConfigurationError, match="has no finite grid"):
        GridSearch(Threshold(), {"threshold": uniform(0, 1)})
    with pytest.raises(ConfigurationError, match="GridSearch fixes its sampler"):
        GridSearch(Threshold(), {"threshold": [0.1]}, sampler="tpe")


def test_random_search_is_repeatable_with_its_seed(data):
    space = {"feature": [0, 1], "threshold": uniform(-1, 2)}

    def run(seed):
        return RandomSearch(Threshold(), space, n_trials=8, cv=3, seed=seed, refit=False).fit(*data)

    first = run(5)
    assert isinstance(first.study_.sampler, optuna.samplers.RandomSampler) and len(first.study_.trials) == 8
    assert run(5).cv_results_["params"] == first.cv_results_["params"]
    assert run(6).cv_results_["params"] != first.cv_results_["params"]
    assert all(-1 <= p["threshold"] <= 1 for p in first.cv_results_["params"])
    assert first.best_score_ == max(first.cv_results_["mean_test_score"])
    assert not hasattr(first, "best_estimator_")
    with pytest.raises(ConfigurationError, match="call fit\\(\\) with refit=True"):
        first.predict(data[0])


def test_bayesian_search_scores_on_a_hold_out_set(data):
    X, y = data
    search = BayesianSearch(Threshold(feature=1), {"threshold": ("float", -1.0, 1.0)}, n_trials=12, seed=0,
                            return_train_score=False).fit(X[:80], y[:80], X_val=X[80:], y_val=y[80:])
    assert isinstance(search.study_.sampler, optuna.samplers.TPESampler)
    assert search.n_splits_ == 1 and "mean_train_score" not in search.cv_results_
    assert search.best_score_ > 0.9


def test_a_search_needs_a_budget_and_an_estimator():
    with pytest.raises(ConfigurationError, match="EstimatorSearch needs n_trials or timeout"):
        EstimatorSearch(Threshold(), {"threshold": [0.1]}).fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]))
    with pytest.raises(ConfigurationError, match="estimator must have a fit"):
        EstimatorSearch(object(), {"threshold": [0.1]})


def test_a_timeout_that_leaves_no_finished_candidate_is_reported(data):
    search = RandomSearch(Threshold(), {"threshold": ("float", -1.0, 1.0)}, n_trials=None, timeout=0.0)
    with pytest.raises(RuntimeError, match=r"RandomSearch scored no candidate within its budget \(n_trials=None, "
                                           r"timeout=0.0\)"):
        search.fit(*data)
    assert search.study_.trials == []
