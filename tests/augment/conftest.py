import random

import numpy as np
import pytest
import torch


@pytest.fixture
def global_rng_untouched():
    """Fails the test if the global torch / numpy / random streams moved."""
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    before = (torch.get_rng_state().clone(), np.random.get_state(), random.getstate())
    yield
    assert torch.equal(torch.get_rng_state(), before[0]), "torch global RNG was used"
    after_np = np.random.get_state()
    np_before = before[1]
    same_numpy = (
        after_np[0] == np_before[0] and np.array_equal(after_np[1], np_before[1]) and after_np[2:] == np_before[2:]
    )
    assert same_numpy, "numpy global RNG was used"
    assert random.getstate() == before[2], "python random was used"
