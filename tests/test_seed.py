import random

import numpy as np
import pytest
import torch

from pfdtrain import seed_everything


def test_seed_everything_seeds_python_numpy_and_torch():
    seed_everything(123)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(123)
    b = (random.random(), np.random.rand(), torch.rand(1).item())
    assert a == b
    seed_everything(124)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != a


def test_deterministic_flag_turns_on_deterministic_algorithms():
    before = torch.are_deterministic_algorithms_enabled()
    try:
        seed_everything(1, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(before)


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "1", True])
def test_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError)):
        seed_everything(bad)
