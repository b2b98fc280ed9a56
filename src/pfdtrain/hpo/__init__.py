"""Hyper-parameter search on Optuna (the ``hpo`` extra: ``pip install 'pfdtrain[hpo]'``).

* :func:`tune`: a study whose trials build and fit a :class:`pfdtrain.Trainer`, pruned through
  the :class:`OptunaPruning` callback.
* :class:`GridSearch`, :class:`RandomSearch`, :class:`BayesianSearch` (:class:`EstimatorSearch`):
  cross-validated search of scikit-learn-style estimators on Optuna's grid, random and TPE
  samplers; :func:`default_search_space` holds the classical models' default spaces.
* :class:`SearchSpace` / :func:`suggest`: declarative spaces; ``uniform``, ``randint``,
  ``loguniform`` stand in for the scipy distributions.

Importing this package does not import Optuna; the first call that needs it does, and without
the extra raises :class:`pfdtrain.errors.MissingExtraError` naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pfdtrain._lazy import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    # `import X as X`: re-exported for type checkers and IDEs; at run time __getattr__ loads them.
    from pfdtrain.hpo.defaults import default_search_space as default_search_space
    from pfdtrain.hpo.distributions import loguniform as loguniform
    from pfdtrain.hpo.distributions import randint as randint
    from pfdtrain.hpo.distributions import uniform as uniform
    from pfdtrain.hpo.estimator_search import BayesianSearch as BayesianSearch
    from pfdtrain.hpo.estimator_search import EstimatorSearch as EstimatorSearch
    from pfdtrain.hpo.estimator_search import GridSearch as GridSearch
    from pfdtrain.hpo.estimator_search import RandomSearch as RandomSearch
    from pfdtrain.hpo.pruning import OptunaPruning as OptunaPruning
    from pfdtrain.hpo.space import KINDS as KINDS
    from pfdtrain.hpo.space import SearchSpace as SearchSpace
    from pfdtrain.hpo.space import suggest as suggest
    from pfdtrain.hpo.study import objective_value as objective_value
    from pfdtrain.hpo.study import tune as tune

_LAZY = {
    "tune": "pfdtrain.hpo.study",
    "objective_value": "pfdtrain.hpo.study",
    "OptunaPruning": "pfdtrain.hpo.pruning",
    "SearchSpace": "pfdtrain.hpo.space",
    "suggest": "pfdtrain.hpo.space",
    "KINDS": "pfdtrain.hpo.space",
    "EstimatorSearch": "pfdtrain.hpo.estimator_search",
    "GridSearch": "pfdtrain.hpo.estimator_search",
    "RandomSearch": "pfdtrain.hpo.estimator_search",
    "BayesianSearch": "pfdtrain.hpo.estimator_search",
    "default_search_space": "pfdtrain.hpo.defaults",
    "uniform": "pfdtrain.hpo.distributions",
    "randint": "pfdtrain.hpo.distributions",
    "loguniform": "pfdtrain.hpo.distributions",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY, __all__)
