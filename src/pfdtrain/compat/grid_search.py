"""Legacy ``training.grid_search``: ``GridSearchOptimizer`` and ``get_default_param_grid``.

``search`` builds this module's ``GridSearchCV`` with legacy's arguments (``cv``, ``scoring``,
``n_jobs`` passed on, ``verbose=1``, ``return_train_score=True``) on ``model.model`` when that is
not None, fits it and keeps it in ``.grid_search``. ``GridSearchCV`` / ``BaseEstimator`` are
scikit-learn's when it is installed (as legacy imported them: every argument, result and error
is scikit-learn's); without scikit-learn they are pfdtrain's stand-ins
(:mod:`pfdtrain.compat._search_standins`, on Optuna: ``pfdtrain[hpo]``), and importing this
module without either fails, as legacy's did without scikit-learn. Kept: ``get_results`` /
``get_best_score`` / ``plot_grid_results``, ``ValueError('Grid search has not been run')``,
``get_default_param_grid`` with ``ValueError('Unknown model name: {x}')``; ``random_state`` is
kept but unused, as legacy's was.
"""

from __future__ import annotations

import numpy as np

from pfdtrain.compat import _legacy_search as _shared
from pfdtrain.compat._legacy_names import Any, Dict, List, get_logger

try:  # legacy: from sklearn.model_selection import GridSearchCV; from sklearn.base import BaseEstimator
    from sklearn.base import BaseEstimator
    from sklearn.model_selection import GridSearchCV
except ImportError:  # pfdtrain's stand-ins, which need Optuna (ImportError naming pfdtrain[hpo] otherwise)
    from pfdtrain.hpo._optuna import import_optuna

    import_optuna("training.grid_search")
    from pfdtrain.compat._search_standins import BaseEstimator, GridSearchCV

from pfdtrain.hpo.defaults import MODEL_NAMES, default_search_space

__all__ = [
    # module-level names of the legacy module (served as training.grid_search.<name>)
    "Any",
    "BaseEstimator",
    "Dict",
    "GridSearchCV",
    "GridSearchOptimizer",
    "List",
    "get_default_param_grid",
    "logger",
    "np",
]

logger = get_logger("training.grid_search")

_NOT_RUN = "Grid search has not been run"


def get_default_param_grid(model_name: str) -> Dict[str, List[Any]]:
    if model_name not in MODEL_NAMES:
        raise ValueError(f"Unknown model name: {model_name}")
    return default_search_space(model_name, "grid")


class GridSearchOptimizer:
    def __init__(self, random_state: int = 42) -> None:
        self.random_state = random_state
        self.grid_search: Any = None

    def search(self, model: Any, X_train: np.ndarray, y_train: np.ndarray, param_grid: Any,
               cv: Any = 5, scoring: Any = "accuracy", n_jobs: Any = -1) -> Dict[str, Any]:
        self.grid_search = GridSearchCV(estimator=_shared.estimator_of(model), param_grid=param_grid, cv=cv,
                                        scoring=scoring, n_jobs=n_jobs, verbose=1, return_train_score=True)
        self.grid_search.fit(X_train, y_train)
        return self.grid_search.best_params_

    def get_results(self) -> Dict[str, Any]:
        return _shared.results_of(self.grid_search, _NOT_RUN)

    def get_best_score(self) -> float:
        if self.grid_search is None:
            raise ValueError(_NOT_RUN)
        return self.grid_search.best_score_

    def plot_grid_results(self, param_x: str, param_y: str, save_path: Any = None) -> Any:
        cv_results = self.get_results()["cv_results"]
        return _shared.plot_grid(cv_results, param_x, param_y, save_path, "GridSearchOptimizer.plot_grid_results")

    get_default_param_grid = staticmethod(get_default_param_grid)  # kept from pfdtrain 0.x
