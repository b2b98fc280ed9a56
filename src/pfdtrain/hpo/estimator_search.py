"""Grid, random and Bayesian (TPE) search of scikit-learn-style estimators, run by Optuna.

Why Optuna and not our own loops: grid, random and TPE search differ only in how the next
parameters are chosen, which is exactly an Optuna sampler (``GridSampler``, ``RandomSampler``,
``TPESampler``). Each trial cross-validates one candidate; the study keeps every trial, and the
results are reported in scikit-learn's shapes (``best_params_``, ``best_score_``, a
``cv_results_`` of lists) so code written against ``GridSearchCV`` keeps reading them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from pfdtrain.errors import ConfigurationError
from pfdtrain.hpo import cv as _cv
from pfdtrain.hpo._optuna import import_optuna, make_sampler
from pfdtrain.hpo.space import SearchSpace

if TYPE_CHECKING:  # pragma: no cover
    import optuna

__all__ = ["BayesianSearch", "EstimatorSearch", "GridSearch", "RandomSearch"]


class EstimatorSearch:
    """Maximise a cross-validated score of ``estimator`` over ``space`` with an Optuna sampler.

    Args:
        estimator: ``fit(X, y)`` plus ``predict`` or ``score``; copied per fit, never modified.
        space: a search-space spec (:mod:`pfdtrain.hpo.space`): lists of values, ``(kind, ...)``
            tuples, or ``uniform``/``randint``/``loguniform`` distributions.
        sampler: ``"tpe"``, ``"random"``, ``"grid"`` (seeded with ``seed``) or an Optuna sampler.
        n_trials / timeout: budget; a grid needs neither (it stops when every point has run).
        cv: folds (stratified for class labels, unshuffled) or ``(train, test)`` index pairs;
            ignored when ``fit`` gets ``X_val``/``y_val`` (one hold-out split).
        scoring: ``"accuracy"``, ``None`` (the estimator's ``score``) or ``scorer(est, X, y)``.
        refit: fit ``best_estimator_`` on all of ``X, y`` with the best parameters.
        return_train_score: also score each fit on its training fold.

    After :meth:`fit`: ``best_params_``, ``best_score_``, ``best_index_``, ``cv_results_``
    (lists: ``params``, ``param_<name>``, ``split<i>_test_score``, ``mean_test_score``,
    ``std_test_score``, ``rank_test_score``, train-score and timing columns), ``n_splits_``,
    ``study_`` and, with ``refit``, ``best_estimator_``. Ties go to the earliest candidate.
    """

    def __init__(
        self,
        estimator: Any,
        space: Mapping[str, Any] | SearchSpace,
        *,
        sampler: str | optuna.samplers.BaseSampler = "tpe",
        n_trials: int | None = None,
        timeout: float | None = None,
        cv: int | Iterable[tuple[Any, Any]] = 5,
        scoring: Any = "accuracy",
        seed: int | None = None,
        refit: bool = True,
        return_train_score: bool = True,
        show_progress_bar: bool = False,
    ) -> None:
        if not callable(getattr(estimator, "fit", None)):
            raise ConfigurationError(
                f"estimator must have a fit(X, y) method; received {type(estimator).__name__}."
            )
        self.estimator = estimator
        self.space = SearchSpace(space)
        self.sampler = sampler
        self.n_trials = n_trials
        self.timeout = timeout
        self.cv = cv
        self.scoring = scoring
        self._scorer = _cv.get_scorer(scoring)
        self.seed = seed
        self.refit = refit
        self.return_train_score = return_train_score
        self.show_progress_bar = show_progress_bar

    def fit(self, X: Any, y: Any, *, X_val: Any = None, y_val: Any = None) -> EstimatorSearch:
        """Run the study; with ``X_val``/``y_val`` each candidate is scored on them instead of CV."""
        optuna_lib = import_optuna(f"pfdtrain.hpo.{type(self).__name__}")
        is_grid = self.sampler == "grid" or isinstance(self.sampler, optuna_lib.samplers.GridSampler)
        if self.n_trials is None and self.timeout is None and not is_grid:
            raise ConfigurationError(f"{type(self).__name__} needs n_trials or timeout.")
        folds = _cv.make_folds(X, y, self.cv, X_val, y_val)
        grid = self.space.grid() if self.sampler == "grid" else None
        study = optuna_lib.create_study(direction="maximize", sampler=make_sampler(self.sampler, self.seed, grid))

        def objective(trial: optuna.Trial) -> float:
            params = self.space.suggest(trial)
            scores = _cv.cross_validate(self.estimator, params, folds, self._scorer, self.return_train_score)
            for key, values in scores.items():
                trial.set_user_attr(key, values)
            return float(np.mean(scores["test_scores"]))

        study.optimize(objective, n_trials=self.n_trials, timeout=self.timeout,
                       show_progress_bar=self.show_progress_bar)
        self.study_ = study
        self.n_splits_ = len(folds)
        finished = self._ordered(study.trials)
        if not finished:
            raise RuntimeError(
                f"{type(self).__name__} scored no candidate within its budget "
                f"(n_trials={self.n_trials}, timeout={self.timeout}); the study is in .study_."
            )
        self.cv_results_ = self._cv_results(finished)
        self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.best_score_ = self.cv_results_["mean_test_score"][self.best_index_]
        if self.refit:
            self.best_estimator_ = _cv.clone_with(self.estimator, self.best_params_)
            self.best_estimator_.fit(X, y)
        return self

    def predict(self, X: Any) -> Any:
        return self._best().predict(X)

    def score(self, X: Any, y: Any) -> float:
        return float(self._scorer(self._best(), X, y))

    def _best(self) -> Any:
        if not hasattr(self, "best_estimator_"):
            raise ConfigurationError(f"{type(self).__name__} has no best_estimator_: call fit() with refit=True.")
        return self.best_estimator_

    def _ordered(self, trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
        """Trials that scored every fold, in the order candidates are reported (trial order)."""
        return [t for t in trials if "test_scores" in t.user_attrs]

    def _cv_results(self, trials: list[optuna.trial.FrozenTrial]) -> dict[str, list[Any]]:
        params = [self.space.decode(t.params) for t in trials]
        results: dict[str, list[Any]] = {"params": params}
        for name in self.space:
            results[f"param_{name}"] = [p.get(name) for p in params]
        columns = [("test", "test_scores")] + ([("train", "train_scores")] if self.return_train_score else [])
        for label, key in columns:
            table = np.array([t.user_attrs[key] for t in trials], dtype=float).reshape(len(trials), -1)
            for i in range(table.shape[1]):
                results[f"split{i}_{label}_score"] = table[:, i].tolist()
            results[f"mean_{label}_score"] = table.mean(axis=1).tolist()
            results[f"std_{label}_score"] = table.std(axis=1).tolist()
        for label in ("fit", "score"):
            table = np.array([t.user_attrs[f"{label}_times"] for t in trials], dtype=float).reshape(len(trials), -1)
            results[f"mean_{label}_time"] = table.mean(axis=1).tolist()
            results[f"std_{label}_time"] = table.std(axis=1).tolist()
        results["rank_test_score"] = _rank(results["mean_test_score"])
        return results


def _rank(scores: list[float]) -> list[int]:
    """1 for the highest score, ties share the lowest rank, NaN ranks last (scikit-learn's rule)."""
    values = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    return [int(np.sum(values > v)) + 1 for v in values]


class GridSearch(EstimatorSearch):
    """Every combination of ``param_grid`` once (Optuna ``GridSampler``), reported in scikit-learn's
    ``ParameterGrid`` order (names sorted, the last name varying fastest), whatever order they ran in.
    """

    def __init__(self, estimator: Any, param_grid: Mapping[str, Any] | SearchSpace, **options: Any) -> None:
        _no_sampler(options, "GridSearch")
        super().__init__(estimator, param_grid, sampler="grid", **options)
        self.space.grid()  # refuse continuous entries now, not at fit

    def _ordered(self, trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
        grid = self.space.grid()
        names = sorted(grid)
        done = super()._ordered(trials)
        return sorted(done, key=lambda t: tuple(grid[n].index(t.params[n]) for n in names))


class RandomSearch(EstimatorSearch):
    """``n_trials`` candidates drawn independently (Optuna ``RandomSampler(seed)``)."""

    def __init__(self, estimator: Any, param_distributions: Mapping[str, Any] | SearchSpace, *,
                 n_trials: int = 10, **options: Any) -> None:
        _no_sampler(options, "RandomSearch")
        super().__init__(estimator, param_distributions, sampler="random", n_trials=n_trials, **options)


class BayesianSearch(EstimatorSearch):
    """``n_trials`` candidates chosen by Optuna's ``TPESampler(seed)`` from the earlier scores."""

    def __init__(self, estimator: Any, space: Mapping[str, Any] | SearchSpace, *, n_trials: int = 50,
                 **options: Any) -> None:
        _no_sampler(options, "BayesianSearch")
        super().__init__(estimator, space, sampler="tpe", n_trials=n_trials, **options)


def _no_sampler(options: Mapping[str, Any], cls: str) -> None:
    if "sampler" in options:
        raise ConfigurationError(f"{cls} fixes its sampler; use EstimatorSearch(..., sampler=...) to choose one.")
