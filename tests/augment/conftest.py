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
    assert after_np[0] == before[1][0] and np.array_equal(after_np[1], before[1][1]) and after_np[2:] == before[1][2:], \
        "numpy global RNG was used"
    assert random.getstate() == before[2], "python random was used"
