"""A tiny scikit-learn-style estimator and data for the search tests (tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import numpy as np


class Threshold:
    """Predicts 1 where ``X[:, feature] > threshold``; on :func:`threshold_data` only feature=1,
    threshold=0.3 is perfect. Counts its fits so tests can tell copies from the original."""

    def __init__(self, feature=0, threshold=0.0):
        self.feature, self.threshold = feature, threshold
        self.fits = 0

    def get_params(self, deep=True):
        return {"feature": self.feature, "threshold": self.threshold}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y):
        self.fits += 1
        self.fitted_ = True
        return self

    def predict(self, X):
        return (X[:, self.feature] > self.threshold).astype(int)


def threshold_data(n: int = 150):
    X = np.random.default_rng(0).uniform(-1, 1, (n, 2))
    return X, (X[:, 1] > 0.3).astype(int)
