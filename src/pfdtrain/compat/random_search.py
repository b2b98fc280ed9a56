"""Legacy ``training.random_search``: ``RandomSearchOptimizer`` and ``get_default_param_distributions``.

``search`` builds this module's ``RandomizedSearchCV`` with legacy's arguments (``n_iter``, ``cv``,
``scoring``, ``n_jobs`` passed on, ``verbose=1``, ``random_state=self.random_state``,
``return_train_score=True``) on ``model.model`` when that is not None, fits it and keeps it in
``.random_search``. ``RandomizedSearchCV``, ``uniform`` and ``randint`` are scikit-learn's and
scipy's when installed (as legacy imported them); otherwise pfdtrain's stand-ins
(:mod:`pfdtrain.compat._search_standins` on Optuna, :mod:`pfdtrain.hpo.distributions` with the same
ranges), whose random candidates are Optuna's, not scikit-learn's. Kept: the accessors,
``plot_search_results``, ``ValueError('Random search has not been run')``,
``get_default_param_distributions`` with ``ValueError('Unknown model name: {x}')``.
"""

from __future__ import annotations

import numpy as np

from pfdtrain.compat import _legacy_search as _shared
from pfdtrain.compat._legacy_names import Any, Dict, get_logger

try:  # legacy: from sklearn.model_selection import RandomizedSearchCV; from scipy.stats import uniform, randint
    from sklearn.model_selection import RandomizedSearchCV
except ImportError:  # pfdtrain's stand-in, which needs Optuna (ImportError naming pfdtrain[hpo] otherwise)
    from pfdtrain.hpo._optuna import import_optuna

    import_optuna("training.random_search")
    from pfdtrain.compat._search_standins import RandomizedSearchCV
try:
    from scipy.stats import randint, uniform
except ImportError:
    from pfdtrain.hpo.distributions import randint, uniform

from pfdtrain.hpo.defaults import MODEL_NAMES, default_search_space
from pfdtrain.hpo.distributions import RandInt, Uniform

__all__ = [
    # module-level names of the legacy module (served as training.random_search.<name>)
    "Any",
    "Dict",
    "RandomSearchOptimizer",
    "RandomizedSearchCV",
    "get_default_param_distributions",
    "logger",
    "np",
    "randint",
    "uniform",
]

logger = get_logger("training.random_search")

_NOT_RUN = "Random search has not been run"


def _as_legacy(value: Any) -> Any:
    """The table's distribution rebuilt with this module's ``uniform`` / ``randint`` (scipy's when
    installed), as legacy built them."""
    if isinstance(value, Uniform):
        return uniform(value.loc, value.scale)
    if isinstance(value, RandInt):
        return randint(value.low, value.high)
    return value


def get_default_param_distributions(model_name: str) -> Dict[str, Any]:
    if model_name not in MODEL_NAMES:
        raise ValueError(f"Unknown model name: {model_name}")
    return {name: _as_legacy(value) for name, value in default_search_space(model_name, "random").items()}


class RandomSearchOptimizer:
    def __init__(self, random_state: int = 42) -> None:
        self.random_state = random_state
        self.random_search: Any = None

    def search(self, model: Any, X_train: np.ndarray, y_train: np.ndarray, param_distributions: Any,
               n_iter: int = 50, cv: Any = 5, scoring: Any = "accuracy", n_jobs: Any = -1) -> Dict[str, Any]:
        self.random_search = RandomizedSearchCV(
            estimator=_shared.estimator_of(model), param_distributions=param_distributions, n_iter=n_iter, cv=cv,
            scoring=scoring, n_jobs=n_jobs, verbose=1, random_state=self.random_state, return_train_score=True)
        self.random_search.fit(X_train, y_train)
        return self.random_search.best_params_

    def get_results(self) -> Dict[str, Any]:
        return _shared.results_of(self.random_search, _NOT_RUN)

    def get_best_score(self) -> float:
        if self.random_search is None:
            raise ValueError(_NOT_RUN)
        return self.random_search.best_score_

    def plot_search_results(self, save_path: Any = None) -> Any:
        cv_results = self.get_results()["cv_results"]
        return _shared.plot_scores_by_param(cv_results, save_path, "RandomSearchOptimizer.plot_search_results")

    get_default_param_distributions = staticmethod(get_default_param_distributions)  # kept from pfdtrain 0.x
