"""Legacy ``training.grid_search`` on :class:`pfdtrain.hpo.GridSearch` (Optuna's ``GridSampler``).

Kept: ``GridSearchOptimizer(random_state=42)``, ``search(model, X_train, y_train, param_grid,
cv=5, scoring='accuracy', n_jobs=-1) -> best_params_`` on ``model.model`` when that is not None,
the result kept in ``.grid_search`` (``best_params_``, ``best_score_``, ``cv_results_``,
``best_estimator_`` refit on all the data), scikit-learn's "Fitting k folds ..." line and its
``ParameterGrid`` messages and candidate order, ``get_results`` / ``get_best_score`` /
``plot_grid_results``, ``ValueError('Grid search has not been run')``,
``get_default_param_grid`` with ``ValueError('Unknown model name: {x}')``, and an ImportError
on import when the optional dependency is missing (now optuna, via ``pfdtrain[hpo]``).

Differs (no scikit-learn): ``cv_results`` holds lists; folds are computed in numpy with
scikit-learn's unshuffled (stratified for class labels) assignment; ``scoring`` is
``'accuracy'``, None or a callable; ``n_jobs`` is ignored (fits run one after another); a fit
that raises ends the search instead of scoring NaN; a list of grids is refused.
"""

from __future__ import annotations

import math

from pfdtrain.compat import _legacy_search as _shared
from pfdtrain.hpo._optuna import import_optuna

import_optuna("training.grid_search")  # legacy failed at import without its optional dependency

from pfdtrain.hpo.defaults import MODEL_NAMES, default_search_space  # noqa: E402
from pfdtrain.hpo.estimator_search import GridSearch  # noqa: E402

__all__ = ["GridSearchOptimizer", "get_default_param_grid"]

_NOT_RUN = "Grid search has not been run"


def get_default_param_grid(model_name):
    if model_name not in MODEL_NAMES:
        raise ValueError(f"Unknown model name: {model_name}")
    return default_search_space(model_name, "grid")


class GridSearchOptimizer:
    def __init__(self, random_state=42):
        self.random_state = random_state  # legacy ignored it; here it only orders the trials
        self.grid_search = None

    def search(self, model, X_train, y_train, param_grid, cv=5, scoring="accuracy", n_jobs=-1):
        grid = {k: _shared.as_choices(k, v) for k, v in _shared.check_param_dict(param_grid, "grid").items()}
        cv, n_splits = _shared.fold_count(cv)
        _shared.announce(n_splits, math.prod(len(v) for v in grid.values()))
        self.grid_search = GridSearch(
            _shared.estimator_of(model), grid, cv=cv, scoring=scoring, seed=self.random_state
        ).fit(X_train, y_train)
        return self.grid_search.best_params_

    def get_results(self):
        return _shared.results_of(self.grid_search, _NOT_RUN)

    def get_best_score(self):
        return self.get_results()["best_score"]

    def plot_grid_results(self, param_x, param_y, save_path=None):
        cv_results = self.get_results()["cv_results"]
        return _shared.plot_grid(cv_results, param_x, param_y, save_path, "GridSearchOptimizer.plot_grid_results")

    get_default_param_grid = staticmethod(get_default_param_grid)
