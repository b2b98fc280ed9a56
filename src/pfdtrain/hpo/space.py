"""Declarative search spaces: a dict of small specs instead of a hand-written suggest function.

Why: a spec is plain data, so it is checked before the first trial runs, it can be turned into
the grid that Optuna's ``GridSampler`` enumerates, and the same spec serves :func:`~pfdtrain.hpo.tune`
and the estimator searches. Entries::

    ("float", low, high)  /  ("float", low, high, step)     trial.suggest_float
    ("log_float", low, high)                                 trial.suggest_float(log=True)
    ("int", low, high)    /  ("int", low, high, step)        trial.suggest_int (high included)
    ("log_int", low, high)                                   trial.suggest_int(log=True)
    ("categorical", [choices])  or just  [choices]           trial.suggest_categorical
    uniform(loc, scale), randint(low, high), loguniform(a, b) (pfdtrain.hpo.distributions or scipy)

A tuple is always a ``(kind, ...)`` spec; choices go in a list. Choices Optuna cannot store
(tuples such as ``(20, 10)``, numpy scalars, objects) are suggested under their ``repr`` and
decoded back, so ``trial.params`` / ``study.best_params`` show those labels while the code that
builds the model receives the real values (:meth:`SearchSpace.decode`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pfdtrain.errors import ConfigurationError
from pfdtrain.hpo import distributions

__all__ = ["KINDS", "SearchSpace", "suggest"]

KINDS = ("categorical", "float", "int", "log_float", "log_int")
_VALID = f"valid kinds: {', '.join(repr(k) for k in KINDS)} (or a list of choices)"


@dataclass(frozen=True)
class _Numeric:
    kind: str
    low: float
    high: float
    step: float | None

    @property
    def log(self) -> bool:
        return self.kind.startswith("log_")

    def suggest(self, trial: Any, name: str) -> Any:
        if self.kind.endswith("int"):
            return trial.suggest_int(name, self.low, self.high, step=self.step or 1, log=self.log)
        return trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)

    def grid(self, name: str) -> list[float]:
        if self.kind.endswith("int"):  # low, high and step are ints for these kinds (see _numeric)
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        if self.step is None:
            raise ConfigurationError(
                f"search space entry {name!r} ({self.kind!r} without a step) has no finite grid; "
                "give grid search a list of values, e.g. [1e-3, 1e-2]."
            )
        n = math.floor((self.high - self.low) / self.step + 1e-9)
        return [self.low + i * self.step for i in range(n + 1)]

    def decode(self, value: Any) -> Any:
        return value


@dataclass(frozen=True)
class _Categorical:
    choices: tuple[Any, ...]
    labels: tuple[str, ...] | None  # None: Optuna stores the choices themselves

    def suggest(self, trial: Any, name: str) -> Any:
        return self.decode(trial.suggest_categorical(name, list(self.grid(name))))

    def grid(self, name: str) -> list[Any]:
        return list(self.labels if self.labels is not None else self.choices)

    def decode(self, value: Any) -> Any:
        if self.labels is None:
            return value
        return self.choices[self.labels.index(value)]


@dataclass(frozen=True)
class _Distribution:
    dist: Any

    def suggest(self, trial: Any, name: str) -> Any:
        return self.dist.suggest(trial, name)

    def grid(self, name: str) -> list[Any]:
        if hasattr(self.dist, "grid_values"):
            return list(self.dist.grid_values())
        raise ConfigurationError(
            f"search space entry {name!r} ({self.dist!r}) has no finite grid; give grid search a list of values."
        )

    def decode(self, value: Any) -> Any:
        return value


def _is_storable(choice: Any) -> bool:
    return choice is None or type(choice) in (bool, int, float, str)


def _categorical(name: str, choices: Any) -> _Categorical:
    choices = tuple(choices.tolist() if isinstance(choices, np.ndarray) else choices)
    if not choices:
        raise ConfigurationError(f"search space entry {name!r} has no choices; give at least one value.")
    if all(_is_storable(c) for c in choices) and len(set(choices)) == len(choices):
        return _Categorical(choices, None)
    labels: list[str] = []
    unique: list[Any] = []
    for choice in choices:  # repeated choices collapse: a categorical has no duplicate values
        if repr(choice) not in labels:
            labels.append(repr(choice))
            unique.append(choice)
    return _Categorical(tuple(unique), tuple(labels))


def _check_number(name: str, kind: str, value: Any, integer: bool) -> None:
    types = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, types):
        what = "an int" if integer else "a number"
        raise ConfigurationError(
            f"search space entry {name!r}: the bounds and step of {kind!r} must be {what}; "
            f"received {type(value).__name__} {value!r}."
        )


def _parse_tuple(name: str, spec: tuple[Any, ...]) -> Any:
    kind = spec[0] if spec else None
    if not isinstance(kind, str) or kind not in KINDS:
        raise ConfigurationError(
            f"search space entry {name!r}: unknown kind {kind!r}; {_VALID}. "
            "A tuple is a (kind, ...) spec; put choices in a list."
        )
    if kind == "categorical":
        if len(spec) != 2 or not isinstance(spec[1], (list, tuple, np.ndarray)):
            raise ConfigurationError(
                f"search space entry {name!r}: expected ('categorical', [choices]); received {spec!r}."
            )
        return _categorical(name, spec[1])
    has_step = kind in ("float", "int")
    if len(spec) not in ((3, 4) if has_step else (3,)):
        form = f"({kind!r}, low, high" + (", step)" if has_step else ")")
        raise ConfigurationError(f"search space entry {name!r}: expected {form}; received {spec!r}.")
    low, high = spec[1], spec[2]
    step = spec[3] if len(spec) == 4 else None
    integer = kind.endswith("int")
    for value in (low, high) + ((step,) if step is not None else ()):
        _check_number(name, kind, value, integer)
    if low > high:
        raise ConfigurationError(f"search space entry {name!r}: low ({low}) is greater than high ({high}).")
    if kind.startswith("log_") and low <= 0:
        raise ConfigurationError(f"search space entry {name!r}: {kind!r} needs low > 0; received {low}.")
    if step is not None and step <= 0:
        raise ConfigurationError(f"search space entry {name!r}: step must be > 0; received {step}.")
    if integer:
        low, high, step = int(low), int(high), None if step is None else int(step)
    return _Numeric(kind, low, high, step)


def _parse_entry(name: str, spec: Any) -> Any:
    if isinstance(spec, tuple):
        return _parse_tuple(name, spec)
    if isinstance(spec, (list, np.ndarray)):
        return _categorical(name, spec)
    if distributions.is_scipy_frozen(spec):
        return _Distribution(distributions.from_scipy(spec))
    if callable(getattr(spec, "suggest", None)):
        return _Distribution(spec)
    raise ConfigurationError(
        f"search space entry {name!r} must be a (kind, ...) tuple, a list of choices or a distribution "
        f"such as uniform(loc, scale); received {type(spec).__name__} {spec!r}; {_VALID}."
    )


class SearchSpace(Mapping[str, Any]):
    """A checked search space: ``suggest(trial)`` -> params, ``grid()`` for ``GridSampler``."""

    def __init__(self, spec: Mapping[str, Any] | SearchSpace) -> None:
        if isinstance(spec, SearchSpace):
            self._entries: dict[str, Any] = dict(spec._entries)
            return
        if not isinstance(spec, Mapping):
            raise ConfigurationError(
                f"A search space is a dict of name -> spec, e.g. {{'lr': ('log_float', 1e-4, 1e-1)}}; "
                f"received {type(spec).__name__}."
            )
        self._entries = {}
        for name, entry in spec.items():
            if not isinstance(name, str):
                raise ConfigurationError(f"search space names must be strings; received {name!r}.")
            self._entries[name] = _parse_entry(name, entry)

    def suggest(self, trial: Any) -> dict[str, Any]:
        """One ``trial.suggest_*`` call per entry, in the order given; real (decoded) values."""
        return {name: entry.suggest(trial, name) for name, entry in self._entries.items()}

    def grid(self) -> dict[str, list[Any]]:
        """The values ``optuna.samplers.GridSampler`` enumerates (labels for unstorable choices)."""
        return {name: entry.grid(name) for name, entry in self._entries.items()}

    def decode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Real values for Optuna-stored ``params`` (``trial.params``, ``study.best_params``)."""
        return {
            name: self._entries[name].decode(value) if name in self._entries else value
            for name, value in params.items()
        }

    def __getitem__(self, name: str) -> Any:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SearchSpace({list(self._entries)})"


def suggest(trial: Any, space: Mapping[str, Any] | SearchSpace) -> dict[str, Any]:
    """Sample every entry of ``space`` with ``trial``; shorthand for ``SearchSpace(space).suggest(trial)``."""
    return SearchSpace(space).suggest(trial)
