"""Legacy ``training.random_search`` on :class:`pfdtrain.hpo.RandomSearch` (Optuna's
``RandomSampler(seed=random_state)``).

Kept: ``RandomSearchOptimizer(random_state=42)``, ``search(model, X_train, y_train,
param_distributions, n_iter=50, cv=5, scoring='accuracy', n_jobs=-1) -> best_params_`` on
``model.model`` when that is not None, the result kept in ``.random_search`` (scikit-learn's
attribute names), the "Fitting k folds ..." line, ``get_results`` / ``get_best_score`` /
``plot_search_results``, ``ValueError('Random search has not been run')``,
``get_default_param_distributions`` with ``ValueError('Unknown model name: {x}')``; ``uniform``
and ``randint`` importable from here as they were (scipy's, now pfdtrain's stand-ins with the
same ranges; real scipy distributions of these kinds are still accepted).

Differs: the candidates drawn for a seed are Optuna's, not scikit-learn's; lists are sampled
with replacement (scikit-learn samples an all-list space without replacement); plus the
differences listed in :mod:`pfdtrain.compat.grid_search` (lists in ``cv_results``, numpy folds,
``n_jobs`` ignored, scoring ``'accuracy'``/None/callable).
"""

from __future__ import annotations

from collections.abc import Iterable

from pfdtrain.compat import _legacy_search as _shared
from pfdtrain.hpo._optuna import import_optuna

import_optuna("training.random_search")  # legacy failed at import without its optional dependency

from pfdtrain.hpo.defaults import MODEL_NAMES, default_search_space  # noqa: E402
from pfdtrain.hpo.distributions import randint, uniform  # noqa: E402
from pfdtrain.hpo.estimator_search import RandomSearch  # noqa: E402

__all__ = ["RandomSearchOptimizer", "get_default_param_distributions", "randint", "uniform"]

_NOT_RUN = "Random search has not been run"


def get_default_param_distributions(model_name):
    if model_name not in MODEL_NAMES:
        raise ValueError(f"Unknown model name: {model_name}")
    return default_search_space(model_name, "random")


def _as_distribution(key, value):
    if hasattr(value, "rvs"):
        return value
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return list(value)
    raise TypeError(f"Parameter grid for parameter {key!r} is not iterable or a distribution (value={value})")


class RandomSearchOptimizer:
    def __init__(self, random_state=42):
        self.random_state = random_state
        self.random_search = None

    def search(self, model, X_train, y_train, param_distributions, n_iter=50, cv=5, scoring="accuracy", n_jobs=-1):
        space = {
            k: _as_distribution(k, v)
            for k, v in _shared.check_param_dict(param_distributions, "distribution dict").items()
        }
        cv, n_splits = _shared.fold_count(cv)
        _shared.announce(n_splits, n_iter)
        self.random_search = RandomSearch(
            _shared.estimator_of(model), space, n_trials=n_iter, cv=cv, scoring=scoring, seed=self.random_state
        ).fit(X_train, y_train)
        return self.random_search.best_params_

    def get_results(self):
        return _shared.results_of(self.random_search, _NOT_RUN)

    def get_best_score(self):
        return self.get_results()["best_score"]

    def plot_search_results(self, save_path=None):
        cv_results = self.get_results()["cv_results"]
        return _shared.plot_scores_by_param(cv_results, save_path, "RandomSearchOptimizer.plot_search_results")

    get_default_param_distributions = staticmethod(get_default_param_distributions)
