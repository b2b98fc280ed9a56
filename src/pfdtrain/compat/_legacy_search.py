"""What the legacy grid and random search adapters share: the ``model.model`` unwrapping, the
result accessors, and the matplotlib plots.

Why private: the public surface is the two legacy classes; this keeps each adapter a page long.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def estimator_of(model: Any) -> Any:
    """Legacy searched ``model.model`` when that attribute exists and is not None, else ``model``."""
    if hasattr(model, "model") and model.model is not None:
        return model.model
    return model


def results_of(search: Any, not_run: str) -> dict[str, Any]:
    if search is None:
        raise ValueError(not_run)
    return {"best_params": search.best_params_, "best_score": search.best_score_, "cv_results": search.cv_results_}


def values(cv_results: Mapping[str, Any], key: str) -> list[Any]:
    """A ``cv_results_`` column as a list (scikit-learn keeps masked arrays, the stand-ins lists)."""
    column = cv_results[key]
    return column.tolist() if hasattr(column, "tolist") else list(column)


# ---------------------------------------------------------------------------------------- plots


def pyplot(feature: str) -> Any:
    """``matplotlib.pyplot``, or an ImportError saying that ``feature`` needs matplotlib."""
    try:
        import matplotlib.pyplot as plt  # type: ignore[import-not-found]  # optional, not a dependency
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


def searched_params(cv_results: Mapping[str, Any]) -> list[str]:
    return [k[len("param_"):] for k in cv_results if k.startswith("param_")]


def plot_grid(cv_results: Mapping[str, list], param_x: str, param_y: str, save_path: Any, feature: str) -> Any:
    """Heat map of the mean CV score over two parameters (averaged over the others)."""
    names = searched_params(cv_results)
    for p in (param_x, param_y):
        if p not in names:
            raise ValueError(f"Unknown parameter {p!r}; searched parameters: {', '.join(names)}")
    plt = pyplot(feature)
    xs, ys = values(cv_results, f"param_{param_x}"), values(cv_results, f"param_{param_y}")
    x_levels, y_levels = _levels(xs), _levels(ys)
    x_index = {repr(v): i for i, v in enumerate(x_levels)}
    y_index = {repr(v): i for i, v in enumerate(y_levels)}
    total = np.zeros((len(y_levels), len(x_levels)))
    count = np.zeros_like(total)
    for x, y, score in zip(xs, ys, values(cv_results, "mean_test_score"), strict=True):
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
    scores = values(cv_results, "mean_test_score")
    for ax, name in zip(axes, names, strict=False):
        column = values(cv_results, f"param_{name}")
        if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in column):
            ax.scatter(column, scores, alpha=0.7)
        else:
            levels = _levels(column)
            index = {repr(v): i for i, v in enumerate(levels)}
            ax.scatter([index[repr(v)] for v in column], scores, alpha=0.7)
            ax.set_xticks(range(len(levels)))
            ax.set_xticklabels([str(v) for v in levels])
        ax.set_xlabel(name)
        ax.set_ylabel("Mean CV score")
    fig.suptitle("Random Search Results")
    return finish(fig, save_path)
