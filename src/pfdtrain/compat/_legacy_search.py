"""What the legacy grid and random search adapters share: argument checks in scikit-learn's
words, the ``model.model`` unwrapping, the result accessors, and the matplotlib plots.

Why private: the public surface is the two legacy classes; this keeps each adapter a page long.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from pfdtrain.errors import ConfigurationError


def estimator_of(model: Any) -> Any:
    """Legacy searched ``model.model`` when that attribute exists and is not None, else ``model``."""
    inner = getattr(model, "model", None)
    return inner if inner is not None else model


def check_param_dict(params: Any, what: str) -> dict[str, Any]:
    """A single dict, as legacy callers pass; scikit-learn's list-of-dicts form is refused."""
    if isinstance(params, Mapping):
        return dict(params)
    if isinstance(params, list):
        raise ConfigurationError(
            f"A list of {what}s is not supported; run one search per {what}."
        )
    raise TypeError(f"Parameter grid should be a dict or a list, got: {params!r} (of type {type(params).__name__})")


def as_choices(key: str, value: Any) -> list:
    """scikit-learn's ``ParameterGrid`` checks (same messages); choices become a list."""
    if isinstance(value, np.ndarray) and value.ndim > 1:
        raise ValueError(f"Parameter array for {key!r} should be one-dimensional, got: {value!r} with shape {value.shape}")
    if isinstance(value, str) or not isinstance(value, (np.ndarray, Sequence)):
        raise TypeError(
            f"Parameter grid for parameter {key!r} needs to be a list or a numpy array, but got {value!r} (of type "
            f"{type(value).__name__}) instead. Single values need to be wrapped in a list with one element."
        )
    if len(value) == 0:
        raise ValueError(f"Parameter grid for parameter {key!r} need to be a non-empty sequence, got: {value!r}")
    return list(value)


def fold_count(cv: int | Iterable) -> tuple[int | list, int]:
    """``cv`` made reusable (an iterator of splits becomes a list) and its number of folds."""
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return int(cv), int(cv)
    splits = list(cv)
    return splits, len(splits)


def announce(n_splits: int, n_candidates: int) -> None:
    """The line scikit-learn's ``verbose=1`` searches printed."""
    print(f"Fitting {n_splits} folds for each of {n_candidates} candidates, totalling {n_splits * n_candidates} fits")


def results_of(search: Any, not_run: str) -> dict[str, Any]:
    if search is None:
        raise ValueError(not_run)
    return {"best_params": search.best_params_, "best_score": search.best_score_, "cv_results": search.cv_results_}


# ---------------------------------------------------------------------------------------- plots


def pyplot(feature: str) -> Any:
    """``matplotlib.pyplot``, or an ImportError saying that ``feature`` needs matplotlib."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{feature} needs matplotlib, which is not installed. Install it with: pip install matplotlib",
            name="matplotlib",
        ) from exc
    return plt


def finish(fig: Any, save_path: Any) -> Any:
    fig.tight_layout()
    if save_path is not None:
        fig.savefig(save_path, dpi=300, bbox_inches="tight")
    return fig


def _levels(values: list) -> list:
    """Distinct values in order of first appearance (works for unhashable values too)."""
    seen: dict[str, Any] = {}
    for v in values:
        seen.setdefault(repr(v), v)
    return list(seen.values())


def searched_params(cv_results: Mapping[str, list]) -> list[str]:
    return [k[len("param_"):] for k in cv_results if k.startswith("param_")]


def plot_grid(cv_results: Mapping[str, list], param_x: str, param_y: str, save_path: Any, feature: str) -> Any:
    """Heat map of the mean CV score over two parameters (averaged over the others)."""
    names = searched_params(cv_results)
    for p in (param_x, param_y):
        if p not in names:
            raise ValueError(f"Unknown parameter {p!r}; searched parameters: {', '.join(names)}")
    plt = pyplot(feature)
    xs, ys = cv_results[f"param_{param_x}"], cv_results[f"param_{param_y}"]
    x_levels, y_levels = _levels(xs), _levels(ys)
    x_index = {repr(v): i for i, v in enumerate(x_levels)}
    y_index = {repr(v): i for i, v in enumerate(y_levels)}
    total = np.zeros((len(y_levels), len(x_levels)))
    count = np.zeros_like(total)
    for x, y, score in zip(xs, ys, cv_results["mean_test_score"]):
        total[y_index[repr(y)], x_index[repr(x)]] += score
        count[y_index[repr(y)], x_index[repr(x)]] += 1
    with np.errstate(invalid="ignore"):
        matrix = total / count
    fig, ax = plt.subplots(figsize=(10, 8))
    image = ax.imshow(matrix, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(x_levels)))
    ax.set_xticklabels([str(v) for v in x_levels])
    ax.set_yticks(range(len(y_levels)))
    ax.set_yticklabels([str(v) for v in y_levels])
    for i in range(len(y_levels)):
        for j in range(len(x_levels)):
            if count[i, j]:
                ax.text(j, i, f"{matrix[i, j]:.3f}", ha="center", va="center", color="w")
    ax.set_xlabel(param_x)
    ax.set_ylabel(param_y)
    ax.set_title("Grid Search Results (mean CV score)")
    fig.colorbar(image, ax=ax, label="Mean CV score")
    return finish(fig, save_path)


def plot_scores_by_param(cv_results: Mapping[str, list], save_path: Any, feature: str) -> Any:
    """One panel per searched parameter: each candidate's mean CV score against its value."""
    names = searched_params(cv_results)
    plt = pyplot(feature)
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(5 * max(len(names), 1), 4), squeeze=False)
    axes = list(axes[0])
    scores = cv_results["mean_test_score"]
    for ax, name in zip(axes, names):
        values = cv_results[f"param_{name}"]
        if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values):
            ax.scatter(values, scores, alpha=0.7)
        else:
            levels = _levels(values)
            index = {repr(v): i for i, v in enumerate(levels)}
            ax.scatter([index[repr(v)] for v in values], scores, alpha=0.7)
            ax.set_xticks(range(len(levels)))
            ax.set_xticklabels([str(v) for v in levels])
        ax.set_xlabel(name)
        ax.set_ylabel("Mean CV score")
    fig.suptitle("Random Search Results")
    return finish(fig, save_path)
