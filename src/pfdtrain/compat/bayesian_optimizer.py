"""Legacy ``training.bayesian_optimizer``: one Optuna study through this module's ``optuna`` and
``TPESampler`` globals, as legacy ran it (``TPESampler(seed=random_state)``, maximising the
validation score, with a progress bar), so patching ``training.bayesian_optimizer.optuna`` or
``.TPESampler`` reaches it.

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

An unknown model type fails inside the first trial (the study keeps one failed trial), as
legacy's did. The plots draw the same data as legacy's, in pfdtrain's layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pfdtrain.compat import _legacy_search as _shared
from pfdtrain.compat._legacy_names import Any, Callable, Dict, Optional, get_logger
from pfdtrain.hpo._optuna import import_optuna

optuna = import_optuna("training.bayesian_optimizer")  # legacy imported optuna at module level
TPESampler = optuna.samplers.TPESampler

__all__ = [
    # module-level names of the legacy module (served as training.bayesian_optimizer.<name>)
    "Any",
    "BayesianOptimizer",
    "Callable",
    "Dict",
    "Optional",
    "Path",
    "TPESampler",
    "logger",
    "np",
    "optuna",
]

logger = get_logger("training.bayesian_optimizer")

_NOT_RUN = "No optimization has been run"

#: Search spaces by model class name, in the order the parameters are suggested:
#: ``(kind, low, high)`` with kind ``int`` / ``float`` / ``log_float``, or a list of choices.
SPACES: dict[str, dict[str, Any]] = {
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


def _suggest(trial: Any, name: str, spec: Any) -> Any:
    if isinstance(spec, list):
        return trial.suggest_categorical(name, spec)
    kind, low, high = spec
    if kind == "int":
        return trial.suggest_int(name, low, high)
    return trial.suggest_float(name, low, high, log=kind == "log_float")


def hyperparams_for(model_name: str, params: Dict[str, Any]) -> Dict[str, Any]:
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


class BayesianOptimizer:
    def __init__(self, random_state: int = 42) -> None:
        self.random_state = random_state
        self.study: Any = None

    def optimize(self, model_class: Any, X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray,
                 y_val: np.ndarray, n_trials: int = 50, timeout: Optional[int] = None) -> Dict[str, Any]:
        """One Optuna study (this module's ``optuna`` and ``TPESampler``, as legacy's): each trial
        trains ``model_class(random_state=seed)`` on the suggested hyper-parameters and scores it on
        the validation data. An unknown model type fails in the first trial, as legacy's did."""
        model_name = model_class.__name__

        def objective(trial: Any) -> float:
            hyperparams = self._suggest_hyperparameters(trial, model_name)
            model = model_class(random_state=self.random_state)
            model.train(X_train, y_train, hyperparams=hyperparams)
            return model.score(X_val, y_val)

        self.study = optuna.create_study(direction="maximize", sampler=TPESampler(seed=self.random_state))
        self.study.optimize(objective, n_trials=n_trials, timeout=timeout, show_progress_bar=True)
        return self.study.best_params

    def _suggest_hyperparameters(self, trial: Any, model_name: str) -> Dict[str, Any]:
        if model_name not in SPACES:
            raise ValueError(f"Unknown model type: {model_name}")
        params = {name: _suggest(trial, name, spec) for name, spec in SPACES[model_name].items()}
        return hyperparams_for(model_name, params)

    def _require_study(self) -> Any:
        if self.study is None:
            raise ValueError(_NOT_RUN)
        return self.study

    def get_optimization_history(self) -> Any:
        trials = self._require_study().trials
        return {
            "trial_numbers": [t.number for t in trials],
            "values": [t.value for t in trials],
            "params": [t.params for t in trials],
        }

    def get_best_trial_info(self) -> Any:
        best = self._require_study().best_trial
        return {"number": best.number, "value": best.value, "params": best.params}

    def plot_optimization_history(self, save_path: Any = None) -> Any:
        history = self.get_optimization_history()
        plt = _shared.pyplot("BayesianOptimizer.plot_optimization_history")
        points = [(n, v) for n, v in zip(history["trial_numbers"], history["values"], strict=False) if v is not None]
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

    def plot_param_importances(self, save_path: Any = None) -> Any:
        study = self._require_study()
        plt = _shared.pyplot("BayesianOptimizer.plot_param_importances")
        importances = optuna.importance.get_param_importances(study)
        names = list(importances)[::-1]
        fig, ax = plt.subplots(figsize=(10, 6))
        ax.barh(names, [importances[n] for n in names])
        ax.set_xlabel("Importance")
        ax.set_title("Hyperparameter Importances")
        return _shared.finish(fig, save_path)
