"""scipy stand-ins: ranges as scipy defines them, sampling inside them, scipy objects converted."""

from types import SimpleNamespace

import numpy as np
import pytest

from pfdtrain.errors import ConfigurationError
from pfdtrain.hpo.distributions import LogUniform, RandInt, Uniform, from_scipy, loguniform, randint, uniform


def test_supports_follow_scipy():
    assert uniform(0.1, 100).support == (0.1, 100.1)
    assert uniform().support == (0.0, 1.0)
    assert randint(50, 200).support == (50, 199)  # high excluded, as scipy's randint
    assert loguniform(1e-4, 1e-1).support == (1e-4, 1e-1)


def test_rvs_stays_in_range_and_repeats_with_a_seed():
    for dist in (uniform(2, 3), randint(1, 4), loguniform(1e-3, 1.0)):
        draws = dist.rvs(size=500, random_state=0)
        low, high = dist.support
        assert draws.min() >= low and draws.max() <= high
        assert np.array_equal(draws, dist.rvs(size=500, random_state=0))
    assert set(randint(1, 4).rvs(size=200, random_state=1)) == {1, 2, 3}


def frozen(name, *args, **kwds):
    """The attributes of a frozen scipy.stats distribution that from_scipy reads."""
    return SimpleNamespace(dist=SimpleNamespace(name=name), args=args, kwds=kwds, rvs=lambda **_: None)


def test_scipy_frozen_distributions_are_converted():
    assert from_scipy(frozen("uniform", 0.1, 100)) == Uniform(0.1, 100)
    assert from_scipy(frozen("uniform", loc=2, scale=3)) == Uniform(2, 3)
    assert from_scipy(frozen("randint", 5, 30)) == RandInt(5, 30)
    assert from_scipy(frozen("randint", 0, 3, loc=10)) == RandInt(10, 13)
    assert from_scipy(frozen("loguniform", 1e-4, 1e-2)) == LogUniform(1e-4, 1e-2)
    with pytest.raises(ConfigurationError, match=r"scipy\.stats\.norm has no Optuna equivalent here; supported: "
                                                 r"uniform, randint, loguniform"):
        from_scipy(frozen("norm", 0, 1))
    with pytest.raises(ConfigurationError, match="loc=1"):
        from_scipy(frozen("loguniform", 1e-4, 1e-2, loc=1))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: uniform(0, -1), "scale must be >= 0"),
        (lambda: uniform("a"), "loc must be a number"),
        (lambda: randint(5, 5), "low < high"),
        (lambda: randint(0.5, 3), "low must be an int"),
        (lambda: loguniform(0, 1), "0 < a <= b"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ConfigurationError, match=match):
        make()
