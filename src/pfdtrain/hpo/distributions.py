"""Stand-ins for the three scipy.stats distributions that search spaces use.

Why: the legacy random search took ``scipy.stats.uniform(loc, scale)`` / ``randint(low, high)``;
pfdtrain depends on neither scipy nor scikit-learn. These small frozen objects keep the same
constructor arguments and ranges, and turn themselves into the matching Optuna ``suggest_*``
call, so a random search is an Optuna ``RandomSampler`` rather than our own sampling loop.
Real scipy frozen distributions of the same three kinds are converted by :func:`from_scipy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pfdtrain.errors import ConfigurationError

__all__ = ["LogUniform", "RandInt", "Uniform", "from_scipy", "loguniform", "randint", "uniform"]


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigurationError(f"{name} must be a number; received {type(value).__name__} {value!r}.")
    return float(value)


@dataclass(frozen=True)
class Uniform:
    """Like ``scipy.stats.uniform(loc, scale)``: floats in ``[loc, loc + scale]``."""

    loc: float = 0.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        _number("uniform loc", self.loc)
        if _number("uniform scale", self.scale) < 0:
            raise ConfigurationError(f"uniform scale must be >= 0; received {self.scale!r}.")

    @property
    def support(self) -> tuple[float, float]:
        return (self.loc, self.loc + self.scale)

    def suggest(self, trial: Any, name: str) -> float:
        return trial.suggest_float(name, *self.support)

    def rvs(self, size: Any = None, random_state: Any = None) -> Any:
        return np.random.default_rng(random_state).uniform(*self.support, size)


@dataclass(frozen=True)
class RandInt:
    """Like ``scipy.stats.randint(low, high)``: integers in ``[low, high)`` (``high`` excluded)."""

    low: int
    high: int

    def __post_init__(self) -> None:
        for field in ("low", "high"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ConfigurationError(f"randint {field} must be an int; received {value!r}.")
        if self.high <= self.low:
            raise ConfigurationError(f"randint needs low < high; received low={self.low}, high={self.high}.")

    @property
    def support(self) -> tuple[int, int]:
        """Inclusive bounds, as Optuna's ``suggest_int`` takes them."""
        return (int(self.low), int(self.high) - 1)

    def suggest(self, trial: Any, name: str) -> int:
        return trial.suggest_int(name, *self.support)

    def grid_values(self) -> list[int]:
        return list(range(self.support[0], self.support[1] + 1))

    def rvs(self, size: Any = None, random_state: Any = None) -> Any:
        return np.random.default_rng(random_state).integers(self.low, self.high, size)


@dataclass(frozen=True)
class LogUniform:
    """Like ``scipy.stats.loguniform(a, b)``: floats in ``[a, b]``, uniform in log space."""

    a: float
    b: float

    def __post_init__(self) -> None:
        if not 0 < _number("loguniform a", self.a) <= _number("loguniform b", self.b):
            raise ConfigurationError(f"loguniform needs 0 < a <= b; received a={self.a}, b={self.b}.")

    @property
    def support(self) -> tuple[float, float]:
        return (self.a, self.b)

    def suggest(self, trial: Any, name: str) -> float:
        return trial.suggest_float(name, self.a, self.b, log=True)

    def rvs(self, size: Any = None, random_state: Any = None) -> Any:
        rng = np.random.default_rng(random_state)
        return np.exp(rng.uniform(np.log(self.a), np.log(self.b), size))


# scipy's spelling, so that ``uniform(0.1, 100)`` reads as it did with scipy.stats.
uniform = Uniform
randint = RandInt
loguniform = LogUniform

_SCIPY_ARGS = {
    "uniform": ("loc", "scale"),
    "randint": ("low", "high", "loc"),
    "loguniform": ("a", "b", "loc", "scale"),
    "reciprocal": ("a", "b", "loc", "scale"),
}


def is_scipy_frozen(obj: Any) -> bool:
    """True for a frozen ``scipy.stats`` distribution (duck-typed: scipy need not be installed)."""
    return hasattr(obj, "dist") and hasattr(obj, "args") and hasattr(obj, "kwds") and hasattr(obj, "rvs")


def from_scipy(frozen: Any) -> Uniform | RandInt | LogUniform:
    """The stand-in with the same range as a frozen scipy ``uniform``, ``randint`` or ``loguniform``."""
    name = getattr(frozen.dist, "name", type(frozen.dist).__name__)
    if name not in _SCIPY_ARGS:
        raise ConfigurationError(
            f"scipy.stats.{name} has no Optuna equivalent here; supported: uniform, randint, loguniform "
            "(or write the entry as ('float', low, high), ('int', low, high), ('log_float', low, high))."
        )
    args = dict(zip(_SCIPY_ARGS[name], frozen.args, strict=False))  # trailing loc/scale may be omitted
    args.update(frozen.kwds)
    if name == "uniform":
        return Uniform(args.get("loc", 0.0), args.get("scale", 1.0))
    loc = args.get("loc", 0)
    if name == "randint":
        return RandInt(args["low"] + loc, args["high"] + loc)
    if loc != 0:  # a shifted log-uniform is not log-uniform any more
        raise ConfigurationError(f"scipy.stats.{name} with loc={loc} has no Optuna equivalent; use loc=0.")
    scale = args.get("scale", 1.0)
    return LogUniform(args["a"] * scale, args["b"] * scale)
