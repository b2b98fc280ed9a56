"""Legacy ``training.bayesian_optimizer`` on :class:`pfdtrain.hpo.BayesianSearch` (Optuna's
``TPESampler(seed=random_state)``, maximising the validation score, with a progress bar).

Kept: ``BayesianOptimizer(random_state=42)``; ``optimize(model_class, X_train, y_train, X_val,
y_val, n_trials=50, timeout=None) -> study.best_params`` where each trial runs
``model_class(random_state=seed).train(X_train, y_train, hyperparams=...)`` then
``.score(X_val, y_val)``; the search space chosen by ``model_class.__name__``; the study in
``.study``; ``get_optimization_history``, ``get_best_trial_info``, ``plot_optimization_history``,
``plot_param_importances``; ``ValueError('No optimization has been run')`` and
``ValueError('Unknown model type: {name}')``; an ImportError on import without optuna.

Kept defect (legacy-api.md 8 #48): the returned parameters carry Optuna's raw names, so an
``MLPClassifier`` search returns ``n_units_1``/``n_units_2`` (the model itself was trained with
``hidden_layer_sizes=(n_units_1, n_units_2)`` and ``max_iter=500``). New code:
``pfdtrain.hpo.BayesianSearch`` with a space written in the model's own parameter names.

Differs: an unknown model type is refused before the study starts (legacy failed inside the
first trial, leaving a study with one failed trial). The categorical choices (``kernel``
rbf/poly, ``max_features`` sqrt/log2, ``activation`` relu/tanh) follow the legacy grids.
"""

from __future__ import annotations

from pfdtrain.compat import _legacy_search as _shared
from pfdtrain.hpo._optuna import import_optuna

optuna = import_optuna("training.bayesian_optimizer")  # legacy imported optuna at module level

from pfdtrain.hpo.estimator_search import BayesianSearch  # noqa: E402

__all__ = ["BayesianOptimizer"]

_NOT_RUN = "No optimization has been run"

#: Search spaces by model class name, in the order the parameters are suggested.
SPACES = {
    "SVMClassifier": {
        "C": ("log_float", 0.1, 100.0),
        "gamma": ("log_float", 0.01, 10.0),
        "kernel": ["rbf", "poly"],
    },
    "RandomForestClassifier": {
        "n_estimators": ("int", 50, 200),
        "max_depth": ("int", 5, 30),
        "min_samples_leaf": ("int", 1, 20),
        "max_features": ["sqrt", "log2"],
    },
    "MLPClassifier": {
        "n_units_1": ("int", 10, 50),
        "n_units_2": ("int", 5, 30),
        "learning_rate_init": ("log_float", 1e-4, 0.1),
        "alpha": ("log_float", 1e-5, 1e-2),
        "activation": ["relu", "tanh"],
    },
    "GradientBoostingClassifier": {
        "n_estimators": ("int", 50, 200),
        "learning_rate": ("log_float", 0.01, 0.3),
        "max_depth": ("int", 2, 10),
        "subsample": ("float", 0.5, 1.0),
    },
}


def hyperparams_for(model_name, params):
    """What ``train(..., hyperparams=)`` receives: the sampled values, MLP layers combined."""
    if model_name != "MLPClassifier":
        return dict(params)
    return {
        "hidden_layer_sizes": (params["n_units_1"], params["n_units_2"]),
        "learning_rate_init": params["learning_rate_init"],
        "alpha": params["alpha"],
        "max_iter": 500,
        "activation": params["activation"],
    }


class _TrainScoreModel:
    """The fit/score face that BayesianSearch needs, over a legacy ``train``/``score`` model."""

    def __init__(self, model_class, random_state, **params):
        self.model_class = model_class
        self.random_state = random_state
        self.params = params

    def get_params(self, deep=False):
        return {"model_class": self.model_class, "random_state": self.random_state, **self.params}

    def set_params(self, **params):
        self.params.update(params)
        return self

    def fit(self, X, y):
        self.model_ = self.model_class(random_state=self.random_state)
        self.model_.train(X, y, hyperparams=hyperparams_for(self.model_class.__name__, self.params))
        return self

    def score(self, X, y):
        return self.model_.score(X, y)


class BayesianOptimizer:
    def __init__(self, random_state=42):
        self.random_state = random_state
        self.study = None

    def optimize(self, model_class, X_train, y_train, X_val, y_val, n_trials=50, timeout=None):
        name = model_class.__name__
        if name not in SPACES:
            raise ValueError(f"Unknown model type: {name}")
        search = BayesianSearch(
            _TrainScoreModel(model_class, self.random_state), SPACES[name], n_trials=n_trials, timeout=timeout,
            scoring=None, seed=self.random_state, refit=False, return_train_score=False, show_progress_bar=True,
        )
        self.study = search.fit(X_train, y_train, X_val=X_val, y_val=y_val).study_
        return self.study.best_params

    def _require_study(self):
        if self.study is None:
            raise ValueError(_NOT_RUN)
        return self.study

    def get_optimization_history(self):
        trials = self._require_study().trials
        return {
            "trial_numbers": [t.number for t in trials],
            "values": [t.value for t in trials],
            "params": [t.params for t in trials],
        }

    def get_best_trial_info(self):
        best = self._require_study().best_trial
        return {"number": best.number, "value": best.value, "params": best.params}

    def plot_optimization_history(self, save_path=None):
        history = self.get_optimization_history()
        plt = _shared.pyplot("BayesianOptimizer.plot_optimization_history")
        points = [(n, v) for n, v in zip(history["trial_numbers"], history["values"]) if v is not None]
        best, running = [], float("-inf")
        for _, value in points:
            running = max(running, value)
            best.append(running)
        fig, ax = plt.subplots(figsize=(10, 6))
        ax.plot([n for n, _ in points], [v for _, v in points], "o", alpha=0.6, label="Trial score")
        ax.plot([n for n, _ in points], best, "-", label="Best so far")
        ax.set_xlabel("Trial")
        ax.set_ylabel("Validation score")
        ax.set_title("Optimization History")
        ax.legend()
        return _shared.finish(fig, save_path)

    def plot_param_importances(self, save_path=None):
        study = self._require_study()
        plt = _shared.pyplot("BayesianOptimizer.plot_param_importances")
        importances = optuna.importance.get_param_importances(study)
        names = list(importances)[::-1]
        fig, ax = plt.subplots(figsize=(10, 6))
        ax.barh(names, [importances[n] for n in names])
        ax.set_xlabel("Importance")
        ax.set_title("Hyperparameter Importances")
        return _shared.finish(fig, save_path)
