"""K-fold cross-validation of scikit-learn-style estimators, in numpy.

Why not scikit-learn: it is not a pfdtrain dependency, and a search needs little of it: the
folds (``KFold`` / ``StratifiedKFold`` without shuffling, the same fold assignment as
scikit-learn's), a fresh copy of the estimator with new parameters, and a scorer. An estimator
is anything with ``fit(X, y)`` and ``predict(X)`` (for ``scoring="accuracy"``) or ``score(X, y)``
(for ``scoring=None``); ``get_params``/``set_params`` are used when present.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from pfdtrain.errors import ConfigurationError

__all__ = ["SCORINGS", "clone_with", "cross_validate", "get_scorer", "make_folds", "split_indices"]

SCORINGS = ("accuracy",)
Scorer = Callable[[Any, Any, Any], float]
#: A fold as ``(X_train, y_train, X_test, y_test)``, built when asked for (no k copies of the data).
Fold = Callable[[], tuple[Any, Any, Any, Any]]


def is_discrete(y: Any) -> bool:
    """Class labels (ints, strings, bools, integral floats) rather than continuous targets."""
    y = np.asarray(y)
    if y.ndim != 1:
        return False
    if y.dtype.kind in "biuUSO":
        return True
    return y.dtype.kind == "f" and bool(np.all(np.isfinite(y))) and bool(np.all(np.mod(y, 1) == 0))


def split_indices(y: Any, cv: int | Iterable[tuple[Any, Any]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train, test)`` index pairs: stratified k-fold for class labels, else k-fold; unshuffled.

    ``cv`` is a number of folds (>= 2) or an iterable of ``(train_indices, test_indices)``.
    Stratification follows scikit-learn's ``StratifiedKFold(shuffle=False)``: each class is
    spread over the folds in data order, so fold class ratios match the whole set.
    """
    n = len(y)
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)):
        if not isinstance(cv, Iterable):
            raise ConfigurationError(
                f"cv must be a number of folds or an iterable of (train, test) index pairs; received "
                f"{type(cv).__name__}."
            )
        pairs = [tuple(p) for p in cv]
        if not pairs or any(len(p) != 2 for p in pairs):
            raise ConfigurationError("cv as an iterable must yield (train_indices, test_indices) pairs.")
        return [(np.asarray(tr, dtype=np.intp), np.asarray(te, dtype=np.intp)) for tr, te in pairs]
    k = int(cv)
    if k < 2:
        raise ConfigurationError(f"cv must be at least 2 folds; received {k}.")
    if k > n:
        raise ConfigurationError(
            f"Cannot have number of splits n_splits={k} greater than the number of samples: n_samples={n}."
        )
    test_folds = _stratified_folds(y, k) if is_discrete(y) else _kfold_folds(n, k)
    everything = np.arange(n)
    return [(everything[test_folds != i], everything[test_folds == i]) for i in range(k)]


def _kfold_folds(n: int, k: int) -> np.ndarray:
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    return np.repeat(np.arange(k), sizes)


def _stratified_folds(y: Any, k: int) -> np.ndarray:
    _, first_seen, inverse = np.unique(np.asarray(y), return_index=True, return_inverse=True)
    _, class_order = np.unique(first_seen, return_inverse=True)  # classes by first appearance
    encoded = class_order[inverse.reshape(-1)]
    counts = np.bincount(encoded)
    if np.all(k > counts):
        raise ConfigurationError(f"n_splits={k} cannot be greater than the number of members in each class.")
    if k > counts.min():
        warnings.warn(
            f"The least populated class in y has only {counts.min()} members, which is less than n_splits={k}.",
            UserWarning,
            stacklevel=4,
        )
    ordered = np.sort(encoded)
    allocation = np.asarray([np.bincount(ordered[i::k], minlength=len(counts)) for i in range(k)])
    folds = np.empty(len(encoded), dtype=np.intp)
    for c in range(len(counts)):
        folds[encoded == c] = np.repeat(np.arange(k), allocation[:, c])
    return folds


def _take(data: Any, index: np.ndarray) -> Any:
    if hasattr(data, "iloc"):  # pandas
        return data.iloc[index]
    if isinstance(data, np.ndarray) or hasattr(data, "index_select"):  # numpy, torch
        return data[index]
    return np.asarray(data)[index]


def make_folds(X: Any, y: Any, cv: int | Iterable[tuple[Any, Any]] = 5, X_val: Any = None,
               y_val: Any = None) -> list[Fold]:
    """The folds of a search: k-fold over ``(X, y)``, or one hold-out fold when ``X_val`` is given."""
    if len(X) != len(y):
        raise ConfigurationError(f"X and y have different lengths: {len(X)} and {len(y)}.")
    if X_val is not None or y_val is not None:
        if X_val is None or y_val is None or len(X_val) != len(y_val):
            raise ConfigurationError("Give both X_val and y_val, with the same length.")
        return [lambda: (X, y, X_val, y_val)]
    return [_fold(X, y, train, test) for train, test in split_indices(y, cv)]


def _fold(X: Any, y: Any, train: np.ndarray, test: np.ndarray) -> Fold:
    """One fold, split only when it is used."""
    return lambda: (_take(X, train), _take(y, train), _take(X, test), _take(y, test))


def _accuracy(estimator: Any, X: Any, y: Any) -> float:
    y = np.asarray(y)
    predicted = np.asarray(estimator.predict(X)).reshape(y.shape)
    return float(np.mean(predicted == y))


def get_scorer(scoring: str | Scorer | None) -> Scorer:
    """``"accuracy"`` (of ``predict``), ``None`` (the estimator's ``score``) or ``scorer(est, X, y)``."""
    if scoring is None:
        return lambda estimator, X, y: float(estimator.score(X, y))
    if callable(scoring):
        return scoring
    if scoring == "accuracy":
        return _accuracy
    raise ConfigurationError(
        f"{scoring!r} is not a supported scoring; valid: {', '.join(repr(s) for s in SCORINGS)}, None "
        "(the estimator's own score method) or a callable scorer(estimator, X, y) -> float."
    )


def clone_with(estimator: Any, params: Mapping[str, Any]) -> Any:
    """A new estimator like ``estimator`` with ``params`` set; ``estimator`` is left untouched.

    With ``get_params`` (scikit-learn style): ``type(est)(**est.get_params(deep=False))`` then
    ``set_params(**params)``, as ``sklearn.base.clone`` does. Otherwise a deep copy whose existing
    attributes are overwritten; an unknown name is refused with the valid ones listed.
    """
    if callable(getattr(estimator, "get_params", None)):
        try:
            current = estimator.get_params(deep=False)
        except TypeError:
            current = estimator.get_params()
        fresh = type(estimator)(**current)
        if params:
            if callable(getattr(fresh, "set_params", None)):
                fresh.set_params(**params)
            else:
                _set_attributes(fresh, params)
        return fresh
    fresh = copy.deepcopy(estimator)
    _set_attributes(fresh, params)
    return fresh


def _set_attributes(estimator: Any, params: Mapping[str, Any]) -> None:
    valid = sorted(k for k in vars(estimator) if not k.startswith("_"))
    unknown = [k for k in params if k not in valid]
    if unknown:
        raise ConfigurationError(
            f"Invalid parameter(s) {unknown} for estimator {type(estimator).__name__}; valid: {', '.join(valid)}."
        )
    for name, value in params.items():
        setattr(estimator, name, value)


def cross_validate(estimator: Any, params: Mapping[str, Any], folds: list[Fold], scorer: Scorer,
                   return_train_score: bool = True) -> dict[str, list[float]]:
    """Fit a fresh copy per fold; per-fold test (and train) scores, fit and score times."""
    result: dict[str, list[float]] = {"test_scores": [], "fit_times": [], "score_times": []}
    if return_train_score:
        result["train_scores"] = []
    for fold in folds:
        X_train, y_train, X_test, y_test = fold()
        model = clone_with(estimator, params)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fitted = time.perf_counter()
        result["test_scores"].append(float(scorer(model, X_test, y_test)))
        result["fit_times"].append(fitted - start)
        result["score_times"].append(time.perf_counter() - fitted)
        if return_train_score:
            result["train_scores"].append(float(scorer(model, X_train, y_train)))
    return result
