"""Default search spaces of the classical models (SVM, random forest, MLP, gradient boosting).

Why here: they are the legacy ``get_default_param_grid`` / ``get_default_param_distributions``
tables, kept in one place so that the legacy adapters and new code read the same numbers. The
names are scikit-learn's parameter names; ``"random"`` spaces use the scipy-style stand-ins of
:mod:`pfdtrain.hpo.distributions` (``randint`` excludes its upper bound).
"""

from __future__ import annotations

import copy
from typing import Any

from pfdtrain.errors import ConfigurationError
from pfdtrain.hpo.distributions import randint, uniform

__all__ = ["MODEL_NAMES", "SPACE_KINDS", "default_search_space"]

_GRIDS: dict[str, dict[str, list[Any]]] = {
    "SVM": {
        "C": [0.1, 1, 10, 100],
        "gamma": [0.01, 0.1, 1, 10],
        "kernel": ["rbf", "poly"],
    },
    "RandomForest": {
        "n_estimators": [50, 100, 150, 200],
        "max_depth": [10, 20, 30, None],
        "min_samples_leaf": [1, 2, 5, 10],
        "max_features": ["sqrt", "log2"],
    },
    "MLP": {
        "hidden_layer_sizes": [(20, 10), (30, 15), (40, 20)],
        "learning_rate_init": [0.0001, 0.001, 0.01],
        "alpha": [0.0001, 0.001, 0.01],
        "activation": ["relu", "tanh"],
    },
    "GradientBoosting": {
        "n_estimators": [50, 100, 150, 200],
        "learning_rate": [0.01, 0.05, 0.1, 0.2],
        "max_depth": [3, 5, 7, 10],
        "subsample": [0.6, 0.8, 1.0],
    },
}

_DISTRIBUTIONS: dict[str, dict[str, Any]] = {
    "SVM": {
        "C": uniform(0.1, 100),  # [0.1, 100.1]
        "gamma": uniform(0.01, 10),  # [0.01, 10.01]
        "kernel": ["rbf", "poly"],
    },
    "RandomForest": {
        "n_estimators": randint(50, 200),
        "max_depth": randint(5, 30),
        "min_samples_leaf": randint(1, 20),
        "max_features": ["sqrt", "log2"],
    },
    "MLP": {
        "hidden_layer_sizes": [(20, 10), (30, 15), (40, 20), (50, 25)],
        "learning_rate_init": uniform(0.0001, 0.01),  # [1e-4, 0.0101]
        "alpha": uniform(0.0001, 0.01),
        "activation": ["relu", "tanh"],
    },
    "GradientBoosting": {
        "n_estimators": randint(50, 200),
        "learning_rate": uniform(0.01, 0.3),  # [0.01, 0.31]
        "max_depth": randint(2, 10),
        "subsample": uniform(0.5, 0.5),  # [0.5, 1.0]
    },
}

MODEL_NAMES = tuple(_GRIDS)
SPACE_KINDS = ("grid", "random")


def default_search_space(model_name: str, kind: str = "grid") -> dict[str, Any]:
    """A fresh copy of the default ``"grid"`` (lists) or ``"random"`` space of ``model_name``.

    ``model_name`` is ``"SVM"``, ``"RandomForest"``, ``"MLP"`` or ``"GradientBoosting"``.
    """
    tables = {"grid": _GRIDS, "random": _DISTRIBUTIONS}
    if kind not in tables:
        raise ConfigurationError(f"Unknown space kind {kind!r}; valid: {', '.join(map(repr, SPACE_KINDS))}.")
    if model_name not in tables[kind]:
        raise ConfigurationError(
            f"Unknown model name {model_name!r}; valid: {', '.join(map(repr, MODEL_NAMES))}."
        )
    return copy.deepcopy(tables[kind][model_name])
