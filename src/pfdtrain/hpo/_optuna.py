"""The one place that imports Optuna, and the name -> sampler/pruner tables.

Why a module of its own: ``import pfdtrain.hpo`` must stay cheap and work without the ``hpo``
extra; Optuna is imported on first use, and a missing install becomes one clear
:class:`~pfdtrain.errors.MissingExtraError` naming ``pip install 'pfdtrain[hpo]'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pfdtrain.errors import ConfigurationError, MissingExtraError

if TYPE_CHECKING:  # pragma: no cover
    import optuna

SAMPLERS = ("grid", "random", "tpe")
PRUNERS = ("hyperband", "median", "none", "successive_halving")


def import_optuna(feature: str = "pfdtrain.hpo") -> Any:
    """Return the ``optuna`` module, or raise :class:`MissingExtraError` naming the extra."""
    try:
        import optuna
    except ImportError as exc:  # also covers sys.modules["optuna"] = None
        raise MissingExtraError(feature, "hpo", "optuna") from exc
    return optuna


def make_sampler(
    sampler: str | optuna.samplers.BaseSampler,
    seed: int | None,
    grid: Mapping[str, list[Any]] | None = None,
) -> optuna.samplers.BaseSampler:
    """Sampler from a name (seeded with ``seed``) or a ready sampler instance (used as given).

    ``grid`` is the search space a ``"grid"`` sampler enumerates; without it a grid is refused.
    """
    optuna = import_optuna()
    if isinstance(sampler, optuna.samplers.BaseSampler):
        return sampler
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if sampler == "grid":
        if grid is None:
            raise ConfigurationError(
                "sampler='grid' needs a search space to enumerate: pass space={...} (lists of "
                "values or finite int ranges), or pass optuna.samplers.GridSampler(search_space)."
            )
        return optuna.samplers.GridSampler(dict(grid), seed=seed)
    raise ConfigurationError(
        f"Unknown sampler {sampler!r}; valid names: {', '.join(repr(s) for s in SAMPLERS)}, "
        "or an optuna.samplers.BaseSampler instance."
    )


def make_pruner(pruner: str | optuna.pruners.BasePruner | None) -> optuna.pruners.BasePruner:
    """Pruner from a name (Optuna defaults) or a ready pruner instance; ``None`` never prunes."""
    optuna = import_optuna()
    if isinstance(pruner, optuna.pruners.BasePruner):
        return pruner
    if pruner is None or pruner == "none":
        return optuna.pruners.NopPruner()
    if pruner == "median":
        return optuna.pruners.MedianPruner()
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    raise ConfigurationError(
        f"Unknown pruner {pruner!r}; valid names: {', '.join(repr(p) for p in PRUNERS)}, None, "
        "or an optuna.pruners.BasePruner instance."
    )
