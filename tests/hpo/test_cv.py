"""Folds (scikit-learn's unshuffled KFold / StratifiedKFold assignment), cloning, scoring."""

import warnings

import numpy as np
import pytest

from pfdtrain.errors import ConfigurationError
from pfdtrain.hpo.cv import clone_with, cross_validate, get_scorer, make_folds, split_indices


def _test_folds(splits):
    return [te.tolist() for _, te in splits]


def test_continuous_targets_get_contiguous_folds_the_first_ones_larger():
    splits = split_indices(np.linspace(0, 1, 10), 3)
    assert _test_folds(splits) == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    for train, test in splits:
        assert sorted(train.tolist() + test.tolist()) == list(range(10))


def test_class_labels_are_stratified_in_data_order():
    y = np.array([0] * 6 + [1] * 3)
    assert _test_folds(split_indices(y, 3)) == [[0, 1, 6], [2, 3, 7], [4, 5, 8]]
    # classes ranked by first appearance ("b" first); allocation of the sorted labels 3+1 / 2+2
    y = np.array(["b", "a", "b", "a", "b", "a", "b", "b"])
    assert _test_folds(split_indices(y, 2)) == [[0, 1, 2, 4], [3, 5, 6, 7]]


def test_fold_count_errors_and_warning():
    with pytest.raises(ConfigurationError, match="cv must be at least 2 folds"):
        split_indices([0, 1, 0, 1], 1)
    with pytest.raises(ConfigurationError, match="n_splits=5 greater than the number of samples: n_samples=4"):
        split_indices([0, 1, 0, 1], 5)
    with pytest.raises(ConfigurationError,
                       match="n_splits=3 cannot be greater than the number of members in each class"):
        split_indices([0, 0, 1, 1], 3)
    with pytest.warns(UserWarning, match="least populated class in y has only 1 members"):
        split_indices([0, 0, 0, 1], 2)
    with pytest.raises(ConfigurationError, match="number of folds or an iterable"):
        split_indices([0, 1], 2.5)


def test_explicit_index_pairs_and_hold_out():
    X, y = np.arange(6).reshape(6, 1), np.array([0, 1] * 3)
    folds = make_folds(X, y, [([0, 1, 2, 3], [4, 5])])
    X_tr, y_tr, X_te, y_te = folds[0]()
    assert X_tr.ravel().tolist() == [0, 1, 2, 3] and X_te.ravel().tolist() == [4, 5]
    assert y_tr.tolist() == [0, 1, 0, 1] and y_te.tolist() == [0, 1]
    (fold,) = make_folds(X, y, 5, X_val=X[:2], y_val=y[:2])
    assert fold()[2] is not None and len(fold()[3]) == 2
    with pytest.raises(ConfigurationError, match="different lengths: 6 and 5"):
        make_folds(X, y[:5])
    with pytest.raises(ConfigurationError, match="both X_val and y_val"):
        make_folds(X, y, X_val=X)


class Params:
    def __init__(self, a=1, b=2):
        self.a, self.b = a, b

    def get_params(self, deep=True):
        return {"a": self.a, "b": self.b}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self


class Plain:
    def __init__(self):
        self.depth = 3
        self.fitted_ = False


def test_clone_with_copies_and_leaves_the_original_alone():
    original = Params(a=5)
    copy = clone_with(original, {"b": 7})
    assert (copy.a, copy.b) == (5, 7) and (original.a, original.b) == (5, 2) and copy is not original
    plain = Plain()
    copy = clone_with(plain, {"depth": 9})
    assert copy.depth == 9 and plain.depth == 3
    with pytest.raises(ConfigurationError,
                       match=r"Invalid parameter\(s\) \['width'\] for estimator Plain; valid: depth, fitted_"):
        clone_with(plain, {"width": 1})


class Constant:
    def __init__(self, label=1):
        self.label = label

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.full(len(X), self.label)

    def score(self, X, y):
        return 0.25


def test_scorers_and_cross_validate():
    X, y = np.zeros((8, 1)), np.array([1, 1, 1, 0, 1, 1, 1, 0])
    assert get_scorer("accuracy")(Constant(), X, y) == 0.75
    assert get_scorer(None)(Constant(), X, y) == 0.25
    with pytest.raises(ConfigurationError, match=r"'f1' is not a supported scoring; valid: 'accuracy', None"):
        get_scorer("f1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = cross_validate(Constant(), {"label": 0}, make_folds(X, y, 2), get_scorer("accuracy"))
    assert result["test_scores"] == [0.25, 0.25] and result["train_scores"] == [0.25, 0.25]
    assert len(result["fit_times"]) == len(result["score_times"]) == 2
