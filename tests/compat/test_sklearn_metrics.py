"""pfdtrain's scikit-learn-compatible metrics against scikit-learn 1.9.1 itself (the ``test``
extra pins it): the same values, types, errors (type and message) and warnings, over many random
label arrays and every ``average`` value; and the legacy ``training.metrics`` functions built on
them give what the legacy code computed with scikit-learn."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
import sklearn
import sklearn.metrics as skm
import torch
from sklearn.exceptions import UndefinedMetricWarning as SkUndefinedMetricWarning
from sklearn.utils._param_validation import InvalidParameterError as SkInvalidParameterError

from pfdtrain.compat import _sklearn_metrics as ours
from pfdtrain.compat import metrics as legacy

AVERAGES = [None, "micro", "macro", "weighted", "binary", "samples"]
PRF = ["precision_score", "recall_score", "f1_score"]


def test_the_reference_is_the_recorded_version():
    assert sklearn.__version__ == "1.9.1"  # the golden data were recorded with it


def _random_cases(n_cases: int = 60) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1234)
    cases = []
    for i in range(n_cases):
        n = int(rng.integers(1, 40))
        k = int(rng.integers(1, 7))
        y_true = rng.integers(0, k, n)
        y_pred = rng.integers(0, k + (i % 3 == 0), n)  # sometimes a class only in the predictions
        if i % 5 == 0:
            y_true = y_true + 2  # labels not starting at 0
        cases.append((y_true, y_pred))
    cases += [(np.array([0, 1, 1]), np.array([0, 0, 1])), (np.array([1, 1, 1]), np.array([1, 1, 1])),
              (np.array([0, 0]), np.array([0, 0])), (np.array([2, 3, 3]), np.array([2, 2, 3])),
              (np.array([3]), np.array([5]))]
    return cases


def _call(fn, *args, **kwargs):
    """``("ok", value, warnings)`` or ``("error", type name, message)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:  # the error itself is what is compared
            return "error", type(exc).__name__, str(exc)
    return "ok", value, [(w.category.__name__, str(w.message)) for w in caught]


def _set_order_free(message: str) -> str:
    """scikit-learn prints option sets in set order, which changes with the process's string hashing."""
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


def _same(a, b) -> None:
    assert a[0] == b[0], (a, b)
    if a[0] == "error":
        assert (a[1], _set_order_free(a[2])) == (b[1], _set_order_free(b[2]))
        return
    value_a, value_b = a[1], b[1]
    assert type(value_a) is type(value_b)
    if isinstance(value_b, np.ndarray):
        assert value_a.dtype == value_b.dtype and value_a.shape == value_b.shape
        np.testing.assert_allclose(value_a, value_b, rtol=1e-12, atol=0)
    elif isinstance(value_b, float) and math.isnan(value_b):
        assert math.isnan(value_a)
    else:
        assert value_a == pytest.approx(value_b, rel=1e-12, abs=0)
    assert a[2] == b[2]


@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("name", PRF)
@pytest.mark.parametrize("zero_division", [0, 1, "warn", np.nan])
def test_precision_recall_f1_match_scikit_learn(name, average, zero_division):
    for y_true, y_pred in _random_cases():
        kwargs = {"average": average, "zero_division": zero_division}
        _same(_call(getattr(ours, name), y_true, y_pred, **kwargs), _call(getattr(skm, name), y_true, y_pred, **kwargs))


@pytest.mark.parametrize("name", PRF)
def test_labels_pos_label_and_sample_weight_match_scikit_learn(name):
    rng = np.random.default_rng(7)
    for y_true, y_pred in _random_cases(25):
        weights = rng.random(len(y_true))
        for kwargs in ({"average": None, "labels": [0, 1, 2, 3, 4, 5]}, {"average": "macro", "labels": [1, 0]},
                       {"average": "binary", "pos_label": 0}, {"average": "binary", "pos_label": 3},
                       {"average": "macro", "pos_label": 2}, {"average": "weighted", "sample_weight": weights}):
            kwargs = {"zero_division": 0, **kwargs}
            _same(_call(getattr(ours, name), y_true, y_pred, **kwargs),
                  _call(getattr(skm, name), y_true, y_pred, **kwargs))


@pytest.mark.parametrize("name", PRF)
@pytest.mark.parametrize("bad", [{"average": "MACRO"}, {"average": 1}, {"zero_division": "foo"},
                                 {"zero_division": 2}, {"labels": "ab"}, {"pos_label": [1]}])
def test_rejected_parameters_raise_scikit_learns_error(name, bad):
    y_true, y_pred = np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1])
    with pytest.raises(SkInvalidParameterError) as expected:
        getattr(skm, name)(y_true, y_pred, **bad)
    with pytest.raises(ours.InvalidParameterError) as got:
        getattr(ours, name)(y_true, y_pred, **bad)
    assert _set_order_free(str(got.value)) == _set_order_free(str(expected.value))
    assert isinstance(got.value, ValueError) and isinstance(got.value, TypeError)  # as scikit-learn's


@pytest.mark.parametrize(("y_true", "y_pred"), [
    (np.array([0, 1, 2]), np.array([0, 1])),  # lengths differ
    (np.array([], dtype=int), np.array([], dtype=int)),  # empty
    (np.array([0.5, 1.0]), np.array([0, 1])),  # continuous
    (np.array([0.5, 1.5]), np.array([0.5, 1.0])),  # continuous only
    (np.array([[0, 1], [1, 0]]), np.array([0, 1])),  # indicator vs labels
])
def test_target_checks_raise_scikit_learns_errors(y_true, y_pred):
    for fn in ("accuracy_score", "f1_score", "confusion_matrix"):
        _same(_call(getattr(ours, fn), y_true, y_pred), _call(getattr(skm, fn), y_true, y_pred))


def test_warnings_are_scikit_learns():
    y_true, y_pred = np.array([0, 0, 1]), np.array([0, 0, 0])
    for name in PRF:
        for kwargs in ({"average": None, "labels": [0, 1, 2]}, {"average": "micro", "labels": [2]}):
            got = _call(getattr(ours, name), y_true, y_pred, **kwargs)
            want = _call(getattr(skm, name), y_true, y_pred, **kwargs)
            assert [m for _, m in got[2]] == [m for _, m in want[2]] and got[2]
    assert ours.UndefinedMetricWarning.__name__ == SkUndefinedMetricWarning.__name__


def test_accuracy_and_confusion_matrix_match_scikit_learn():
    rng = np.random.default_rng(3)
    for y_true, y_pred in _random_cases():
        weights = rng.integers(0, 3, len(y_true))
        for kwargs in ({}, {"normalize": False}, {"sample_weight": weights}):
            _same(_call(ours.accuracy_score, y_true, y_pred, **kwargs),
                  _call(skm.accuracy_score, y_true, y_pred, **kwargs))
        for kwargs in ({}, {"labels": [0, 1, 2, 3, 4, 5]}, {"labels": [2, 0]}, {"labels": []}, {"labels": [9]},
                       {"normalize": "true"}, {"normalize": "all"}, {"sample_weight": weights}):
            _same(_call(ours.confusion_matrix, y_true, y_pred, **kwargs),
                  _call(skm.confusion_matrix, y_true, y_pred, **kwargs))


# ------------------------------------------------------------------------------------ legacy functions


def _tensors(seed: int, n: int = 32, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=gen), torch.randint(0, k, (n,), generator=gen)


@pytest.mark.parametrize("average", AVERAGES)
def test_compute_f1_score_passes_average_through_like_legacy(average):
    # legacy: f1_score(targets, argmax(predictions), average=average, zero_division=0)
    for seed in range(10):
        logits, targets = _tensors(seed)
        want = _call(skm.f1_score, targets.numpy(), logits.argmax(1).numpy(), average=average, zero_division=0)
        _same(_call(legacy.compute_f1_score, logits, targets, average=average), want)


def test_compute_f1_score_average_none_returns_the_per_class_array_over_present_labels():
    logits = torch.tensor([[9.0, 0, 0, 0], [0, 9.0, 0, 0], [0, 9.0, 0, 0], [0, 0, 0, 9.0]])
    targets = torch.tensor([0, 1, 3, 3])  # class 2 never appears
    out = legacy.compute_f1_score(logits, targets, average=None)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_allclose(out, [1.0, 2 / 3, 2 / 3])


@pytest.mark.parametrize("average", AVERAGES)
def test_tracker_compute_passes_average_through_like_legacy(average):
    tracker = legacy.MetricsTracker()
    preds, targs = [], []
    for seed in range(3):
        logits, targets = _tensors(seed, n=8)
        tracker.update(logits, targets)
        preds.append(logits.argmax(1).numpy())
        targs.append(targets.numpy())
    p, t = np.concatenate(preds), np.concatenate(targs)
    got = _call(tracker.compute, average=average)
    want = [_call(fn, t, p, average=average, zero_division=0) for fn in (skm.f1_score, skm.precision_score,
                                                                          skm.recall_score)]
    if any(w[0] == "error" for w in want):
        _same(got, next(w for w in want if w[0] == "error"))
        return
    assert got[0] == "ok" and list(got[1]) == ["accuracy", "f1_score", "precision", "recall"]
    _same(("ok", got[1]["accuracy"], []), ("ok", skm.accuracy_score(t, p), []))
    for key, w in zip(("f1_score", "precision", "recall"), want, strict=True):
        _same(("ok", got[1][key], []), ("ok", w[1], []))


def test_confusion_and_per_class_metrics_match_scikit_learn_calls():
    for seed in range(10):
        logits, targets = _tensors(seed, k=6)
        p, t = logits.argmax(1).numpy(), targets.numpy()
        _same(_call(legacy.compute_confusion_matrix, logits, targets), _call(skm.confusion_matrix, t, p))
        _same(_call(legacy.compute_confusion_matrix, logits, targets, num_classes=7),
              _call(skm.confusion_matrix, t, p, labels=list(range(7))))
        _same(_call(legacy.compute_confusion_matrix, logits, targets, num_classes=0),
              _call(skm.confusion_matrix, t, p, labels=[]))
        per_class = legacy.compute_per_class_metrics(logits, targets, 7)
        for name, key in (("precision_score", "precision"), ("recall_score", "recall"), ("f1_score", "f1_score")):
            want = getattr(skm, name)(t, p, average=None, labels=list(range(7)), zero_division=0)
            for c in range(7):
                assert type(per_class[c][key]) is np.float64 and per_class[c][key] == pytest.approx(want[c], abs=0)


def test_patching_the_module_level_sklearn_name_reaches_the_legacy_function(monkeypatch):
    calls = []
    monkeypatch.setattr(legacy, "f1_score", lambda *a, **k: calls.append(k) or 0.25)
    logits, targets = _tensors(0)
    assert legacy.compute_f1_score(logits, targets, average="weighted") == 0.25
    assert calls == [{"average": "weighted", "zero_division": 0}]
