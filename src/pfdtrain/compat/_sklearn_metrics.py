"""scikit-learn 1.9.1's classification metrics, as the legacy ``training.metrics`` called them,
without scikit-learn.

``accuracy_score``, ``precision_score``, ``recall_score``, ``f1_score`` and ``confusion_matrix``
take scikit-learn's parameters and give its results for binary and multiclass label arrays (any
array-like: numpy, lists, CPU tensors): the ``average`` options (``None`` gives the per-class
``ndarray``), ``labels``, ``pos_label``, ``zero_division`` (``'warn'`` warns with an
:class:`UndefinedMetricWarning`), ``sample_weight``, ``normalize``; and scikit-learn's errors with
its messages: :class:`InvalidParameterError` for a parameter outside the accepted values (the
option sets print in a fixed order, where scikit-learn's order varies per process), and the
``ValueError`` s of its target checks. Multilabel indicator targets are refused
with a ``ValueError`` (the legacy metrics never passed them). Proven against scikit-learn itself
in ``tests/compat/test_sklearn_metrics.py``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "InvalidParameterError",
    "UndefinedMetricWarning",
    "accuracy_score",
    "confusion_matrix",
    "f1_score",
    "precision_score",
    "recall_score",
]


class InvalidParameterError(ValueError, TypeError):
    """A parameter outside the values scikit-learn accepts (scikit-learn's class of that name)."""


class UndefinedMetricWarning(UserWarning):
    """A metric divided by zero and got ``zero_division`` (scikit-learn's warning class)."""


# ------------------------------------------------------------------------------------ parameters

# scikit-learn prints these option sets in set order, which varies from one process to the next
# (string hashing); here they print in the order of scikit-learn's source.
_AVERAGES = ("micro", "macro", "samples", "weighted", "binary")
_NORMALIZE = ("true", "pred", "all")


def _options(options: tuple[str, ...]) -> str:
    return "{" + ", ".join(repr(o) for o in options) + "}"


def _array_like(value: Any) -> bool:
    return (hasattr(value, "__len__") or hasattr(value, "shape") or hasattr(value, "__array__")) and not np.isscalar(
        value)


def _invalid(name: str, caller: str, expected: str, value: Any) -> InvalidParameterError:
    return InvalidParameterError(f"The {name!r} parameter of {caller} must be {expected}. Got {value!r} instead.")


def _check_prf_params(caller: str, labels: Any, pos_label: Any, average: Any, zero_division: Any) -> None:
    if labels is not None and not _array_like(labels):
        raise _invalid("labels", caller, "an array-like or None", labels)
    if pos_label is not None and not isinstance(pos_label, (numbers.Real, str, bool, np.bool_)):
        raise _invalid("pos_label", caller, "an instance of 'float', an instance of 'str', an instance of 'bool' "
                       "or an instance of 'numpy.bool' or None", pos_label)
    if average is not None and not (isinstance(average, str) and average in _AVERAGES):
        raise _invalid("average", caller, f"a str among {_options(_AVERAGES)} or None", average)
    ok = (zero_division == "warn" if isinstance(zero_division, str)
          else isinstance(zero_division, numbers.Real) and (
              zero_division in (0.0, 1.0)
              or (not isinstance(zero_division, numbers.Integral) and math.isnan(zero_division))))
    if not ok:
        raise _invalid("zero_division", caller, "a float among {0.0, 1.0}, numpy.nan or a str among {'warn'}",
                       zero_division)


# ------------------------------------------------------------------------------------ targets


def _as_array(y: Any) -> np.ndarray:
    if hasattr(y, "detach"):  # a torch tensor
        y = y.detach().cpu().numpy()
    return np.asarray(y)


def _target_type(y: np.ndarray) -> str:
    if y.ndim == 2 and y.shape[1] > 1:
        return "multilabel-indicator" if np.isin(y, (0, 1)).all() else "multiclass-multioutput"
    if y.ndim > 2:
        return "unknown"
    if y.dtype.kind == "f" and y.size and np.any(y != y.astype(int)):
        return "continuous"
    return "multiclass" if np.unique(y).size > 2 else "binary"


def _check_targets(y_true: Any, y_pred: Any, sample_weight: Any = None) -> tuple[str, np.ndarray, np.ndarray,
                                                                                np.ndarray]:
    """``(type, sorted present labels, y_true, y_pred)`` as scikit-learn checks them."""
    y_true, y_pred = _as_array(y_true), _as_array(y_pred)
    arrays = [y_true, y_pred] + ([] if sample_weight is None else [_as_array(sample_weight)])
    lengths = [len(y) if y.ndim else 0 for y in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")
    type_true, type_pred = _target_type(y_true), _target_type(y_pred)
    if min(lengths) < 1:
        raise ValueError("Found empty input array (e.g., `y_true` or `y_pred`) while a minimum of 1 sample is "
                         "required.")
    if sample_weight is not None and np.all(arrays[2] == 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    types = {type_true, type_pred}
    if types == {"binary", "multiclass"}:
        types = {"multiclass"}
    if len(types) > 1:
        raise ValueError(f"Classification metrics can't handle a mix of {type_true} and {type_pred} targets")
    y_type = types.pop()
    if y_type == "multilabel-indicator":
        raise ValueError("multilabel-indicator targets are not supported by pfdtrain's scikit-learn-compatible "
                         "metrics; pass one label per sample")
    if y_type not in ("binary", "multiclass"):
        raise ValueError(f"{y_type} is not supported")
    y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
    present = np.unique(np.concatenate([y_true, y_pred]))
    if y_type == "binary" and present.shape[0] > 2:
        y_type = "multiclass"
    return y_type, present, y_true, y_pred


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n, dtype=np.int64)
    weights = _as_array(sample_weight).reshape(-1)
    if weights.shape[0] != n:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {[n, weights.shape[0]]}")
    return weights


# ------------------------------------------------------------------------------------ metrics


def accuracy_score(y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None) -> float:
    if not isinstance(normalize, (bool, np.bool_)):
        raise _invalid("normalize", "accuracy_score", "an instance of 'bool' or an instance of 'numpy.bool'",
                       normalize)
    _, _, y_true, y_pred = _check_targets(y_true, y_pred, sample_weight)
    correct = (y_true == y_pred).astype(np.float64)
    if sample_weight is None:
        return float(correct.mean() if normalize else correct.sum())
    weights = _weights(sample_weight, y_true.shape[0])
    return float(np.average(correct, weights=weights) if normalize else np.dot(correct, weights))


def _zero_value(zero_division: Any) -> float:
    if zero_division == "warn" or zero_division in (0, 1):
        return 0.0 if isinstance(zero_division, str) else float(zero_division)
    return math.nan


def _divide(num: np.ndarray, den: np.ndarray, metric: str, modifier: str, average: Any, warn: bool,
            zero_division: Any) -> np.ndarray:
    mask = den == 0
    result = num.astype(np.float64) / np.where(mask, 1, den).astype(np.float64)
    if not mask.any():
        return result
    result[mask] = _zero_value(zero_division)
    if zero_division == "warn" and warn:
        axis0, axis1 = ("label", "sample") if average == "samples" else ("sample", "label")
        where = "due to" if result.shape[0] == 1 else f"in {axis1}s with"
        warnings.warn(f"{metric.capitalize()} is ill-defined and being set to 0.0 {where} no {modifier} {axis0}s. "
                      f"Use `zero_division` parameter to control this behavior.", UndefinedMetricWarning,
                      stacklevel=4)
    return result


def _nanaverage(values: np.ndarray, weights: np.ndarray | None) -> float:
    if values.shape[0] == 0:
        return math.nan
    keep = ~np.isnan(values)
    if not keep.any():
        return math.nan
    if weights is None:
        return float(np.mean(values[keep]))
    kept = np.asarray(weights, dtype=np.float64)[keep]
    if kept.sum() == 0:
        return float(np.mean(values[keep]))
    return float(np.average(values[keep], weights=kept))


def _prf(caller: str, y_true: Any, y_pred: Any, labels: Any, pos_label: Any, average: Any, sample_weight: Any,
         zero_division: Any, metric: str) -> Any:
    _check_prf_params(caller, labels, pos_label, average, zero_division)
    y_type, present, y_true, y_pred = _check_targets(y_true, y_pred)
    if average == "binary":
        if y_type != "binary":
            raise ValueError(f"Target is {y_type} but average='binary'. Please choose another average setting, "
                             f"one of [None, 'micro', 'macro', 'weighted'].")
        if pos_label not in present and len(present) >= 2:
            raise ValueError(f"pos_label={pos_label} is not a valid label. It should be one of {present}")
        labels = [pos_label]
    elif pos_label not in (None, 1):
        warnings.warn(f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' (got "
                      f"{average!r}). You may use labels=[pos_label] to specify a single positive class.",
                      UserWarning, stacklevel=3)
    if average == "samples":
        raise ValueError("Samplewise metrics are not available outside of multilabel classification.")
    label_list: Sequence[Any] = list(present) if labels is None else list(_as_array(labels).reshape(-1))
    weights = _weights(sample_weight, y_true.shape[0])
    tp = np.array([weights[(y_true == c) & (y_pred == c)].sum() for c in label_list])
    pred = np.array([weights[y_pred == c].sum() for c in label_list])
    true = np.array([weights[y_true == c].sum() for c in label_list])
    if average == "micro":
        tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)
    if metric == "precision":
        result = _divide(tp, pred, "precision", "predicted", average, True, zero_division)
    elif metric == "recall":
        result = _divide(tp, true, "recall", "true", average, True, zero_division)
    else:
        result = _divide(2.0 * tp, true.astype(np.float64) + pred, "f-score", "true nor predicted", average, True,
                         zero_division)
    if average is None:
        return result
    return _nanaverage(result, true if average == "weighted" else None)


def precision_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1, average: Any = "binary",
                    sample_weight: Any = None, zero_division: Any = "warn") -> Any:
    return _prf("precision_score", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division,
                "precision")


def recall_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1, average: Any = "binary",
                 sample_weight: Any = None, zero_division: Any = "warn") -> Any:
    return _prf("recall_score", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division, "recall")


def f1_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1, average: Any = "binary",
             sample_weight: Any = None, zero_division: Any = "warn") -> Any:
    return _prf("f1_score", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division, "f-score")


def confusion_matrix(y_true: Any, y_pred: Any, *, labels: Any = None, sample_weight: Any = None,
                     normalize: Any = None) -> np.ndarray:
    """Rows are true labels, columns predicted ones; labels sorted unless ``labels`` orders them."""
    if labels is not None and not _array_like(labels):
        raise _invalid("labels", "confusion_matrix", "an array-like or None", labels)
    if normalize is not None and not (isinstance(normalize, str) and normalize in _NORMALIZE):
        raise _invalid("normalize", "confusion_matrix", f"a str among {_options(_NORMALIZE)} or None", normalize)
    n_true = len(_as_array(y_true))
    weights_in = np.ones(n_true, dtype=np.int64) if sample_weight is None else sample_weight
    if len(_as_array(weights_in)) == 0:
        weights_in = None
    _, present, y_true, y_pred = _check_targets(y_true, y_pred, weights_in)
    if labels is None:
        label_array = present
    else:
        label_array = _as_array(labels).reshape(-1)
        if label_array.size == 0:
            raise ValueError("'labels' should contain at least one label.")
        if len(np.intersect1d(y_true, label_array)) == 0:
            raise ValueError("At least one label specified must be in y_true")
    weights = _weights(sample_weight, y_true.shape[0])
    index = {label: i for i, label in enumerate(label_array.tolist())}
    n = label_array.size
    rows = np.array([index.get(v, n) for v in y_true.tolist()], dtype=np.int64)
    cols = np.array([index.get(v, n) for v in y_pred.tolist()], dtype=np.int64)
    keep = (rows < n) & (cols < n)
    dtype = np.int64 if weights.dtype.kind in "iub" else np.float64
    cm = np.zeros((n, n), dtype=dtype)
    np.add.at(cm, (rows[keep], cols[keep]), weights[keep].astype(dtype))
    with np.errstate(all="ignore"):
        if normalize == "true":
            cm = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            cm = cm / cm.sum(axis=0, keepdims=True)
        elif normalize == "all":
            cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    if cm.shape == (1, 1):
        warnings.warn("A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to have the "
                      "correct shape, use the 'labels' parameter to pass all known labels.", UserWarning, stacklevel=2)
    return cm
