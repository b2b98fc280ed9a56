"""Stand-ins for scikit-learn's ``GridSearchCV`` / ``RandomizedSearchCV`` / ``BaseEstimator``,
used by the legacy search adapters only where scikit-learn is not installed.

Legacy ``training.grid_search`` / ``training.random_search`` handed their arguments to
scikit-learn, and the estimators they search are scikit-learn estimators, so with scikit-learn
installed the adapters use scikit-learn itself (every argument and error exactly as before). These
stand-ins take the same constructor arguments and run the search on :mod:`pfdtrain.hpo` (Optuna's
grid and random samplers), for estimators with ``fit``/``get_params``/``set_params``:

* supported: a dict grid / distribution dict (scikit-learn's ``ParameterGrid`` checks and
  messages), ``cv`` as a fold count (unshuffled, stratified for class labels) or an iterable of
  ``(train, test)`` index pairs, ``scoring`` ``'accuracy'`` / None / a callable, ``verbose``
  (the "Fitting k folds ..." line), ``refit``, ``return_train_score``, ``random_state``;
* differs (``docs/compatibility.md``): ``cv_results_`` holds lists; ``n_jobs`` and
  ``pre_dispatch`` are accepted and ignored (fits run one after another); a list of grids, any
  other scorer name, or ``error_score`` other than NaN raise :class:`pfdtrain.errors.ConfigurationError`
  saying that scikit-learn is needed; a fit that raises ends the search; random candidates are
  Optuna's draws, not scikit-learn's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from pfdtrain.errors import ConfigurationError
from pfdtrain.hpo._optuna import import_optuna

__all__ = ["BaseEstimator", "GridSearchCV", "RandomizedSearchCV"]


class BaseEstimator:
    """``get_params``/``set_params`` from the constructor's keyword names (scikit-learn's contract)."""

    @classmethod
    def _param_names(cls) -> list[str]:
        import inspect

        init = cls.__init__
        if init is object.__init__:
            return []
        return sorted(p.name for p in inspect.signature(init).parameters.values()
                      if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> BaseEstimator:
        for name, value in params.items():
            setattr(self, name, value)
        return self


def _scikit_learn_needed(what: str) -> ConfigurationError:
    return ConfigurationError(f"{what} needs scikit-learn (legacy ran the search in scikit-learn): "
                              f"pip install scikit-learn")


def _check_dict(params: Any, what: str) -> dict[str, Any]:
    if isinstance(params, Mapping):
        return dict(params)
    if isinstance(params, list):
        raise _scikit_learn_needed(f"A list of {what}s")
    raise TypeError(f"Parameter grid should be a dict or a list, got: {params!r} (of type {type(params).__name__})")


def _choices(key: str, value: Any) -> list:
    """scikit-learn's ``ParameterGrid`` checks (same messages); choices become a list."""
    if isinstance(value, np.ndarray) and value.ndim > 1:
        raise ValueError(
            f"Parameter array for {key!r} should be one-dimensional, got: {value!r} with shape {value.shape}")
    if isinstance(value, str) or not isinstance(value, (np.ndarray, Sequence)):
        raise TypeError(
            f"Parameter grid for parameter {key!r} needs to be a list or a numpy array, but got {value!r} (of type "
            f"{type(value).__name__}) instead. Single values need to be wrapped in a list with one element."
        )
    if len(value) == 0:
        raise ValueError(f"Parameter grid for parameter {key!r} need to be a non-empty sequence, got: {value!r}")
    return list(value)


def _distribution(key: str, value: Any) -> Any:
    if hasattr(value, "rvs"):
        return value
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return list(value)
    raise TypeError(f"Parameter grid for parameter {key!r} is not iterable or a distribution (value={value})")


def _folds(cv: Any) -> tuple[Any, int]:
    if cv is None:
        return 5, 5
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return int(cv), int(cv)
    splits = list(cv)
    return splits, len(splits)


class _SearchCV:
    """The part of scikit-learn's ``BaseSearchCV`` that the legacy adapters used."""

    def __init__(self, estimator: Any, *, scoring: Any = None, n_jobs: Any = None, refit: bool = True, cv: Any = None,
                 verbose: int = 0, pre_dispatch: Any = "2*n_jobs", error_score: Any = math.nan,
                 return_train_score: bool = False) -> None:
        self.estimator = estimator
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.cv = cv
        self.verbose = verbose
        self.pre_dispatch = pre_dispatch
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.search_: Any = None

    def _run(self, search_cls: Any, space: dict[str, Any], n_candidates: int | None, X: Any, y: Any,
             **options: Any) -> _SearchCV:
        import_optuna(f"{type(self).__name__} without scikit-learn")
        if self.scoring not in (None, "accuracy") and not callable(self.scoring):
            raise _scikit_learn_needed(f"scoring={self.scoring!r}")
        if not (isinstance(self.error_score, float) and math.isnan(self.error_score)):
            raise _scikit_learn_needed(f"error_score={self.error_score!r}")
        cv, n_splits = _folds(self.cv)
        if self.verbose > 0:
            n = n_candidates if n_candidates is not None else options["n_trials"]
            print(f"Fitting {n_splits} folds for each of {n} candidates, totalling {n_splits * n} fits")
        self.search_ = search_cls(self.estimator, space, cv=cv, scoring=self.scoring, refit=bool(self.refit),
                                  return_train_score=self.return_train_score, **options).fit(X, y)
        return self

    def __getattr__(self, name: str) -> Any:
        # best_params_, best_score_, best_index_, best_estimator_, cv_results_, study_ after fit
        search = self.__dict__.get("search_")
        if search is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(search, name)


class GridSearchCV(_SearchCV):
    """scikit-learn's ``GridSearchCV(estimator, param_grid, *, scoring, n_jobs, refit, cv, verbose,
    pre_dispatch, error_score, return_train_score)`` on :class:`pfdtrain.hpo.GridSearch`."""

    def __init__(self, estimator: Any, param_grid: Any, *, scoring: Any = None, n_jobs: Any = None,
                 refit: bool = True, cv: Any = None, verbose: int = 0, pre_dispatch: Any = "2*n_jobs",
                 error_score: Any = math.nan, return_train_score: bool = False) -> None:
        super().__init__(estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                         pre_dispatch=pre_dispatch, error_score=error_score, return_train_score=return_train_score)
        self.param_grid = param_grid

    def fit(self, X: Any, y: Any = None) -> GridSearchCV:
        from pfdtrain.hpo.estimator_search import GridSearch

        grid = {k: _choices(k, v) for k, v in _check_dict(self.param_grid, "grid").items()}
        self._run(GridSearch, grid, math.prod(len(v) for v in grid.values()), X, y)
        return self


class RandomizedSearchCV(_SearchCV):
    """scikit-learn's ``RandomizedSearchCV(estimator, param_distributions, *, n_iter, scoring,
    n_jobs, refit, cv, verbose, pre_dispatch, random_state, error_score, return_train_score)`` on
    :class:`pfdtrain.hpo.RandomSearch` (seeded by ``random_state``)."""

    def __init__(self, estimator: Any, param_distributions: Any, *, n_iter: int = 10, scoring: Any = None,
                 n_jobs: Any = None, refit: bool = True, cv: Any = None, verbose: int = 0,
                 pre_dispatch: Any = "2*n_jobs", random_state: Any = None, error_score: Any = math.nan,
                 return_train_score: bool = False) -> None:
        super().__init__(estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                         pre_dispatch=pre_dispatch, error_score=error_score, return_train_score=return_train_score)
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> RandomizedSearchCV:
        from pfdtrain.hpo.estimator_search import RandomSearch

        space = {k: _distribution(k, v) for k, v in _check_dict(self.param_distributions, "distribution dict").items()}
        self._run(RandomSearch, space, None, X, y, n_trials=self.n_iter, seed=self.random_state)
        return self
