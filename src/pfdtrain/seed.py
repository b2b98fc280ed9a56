"""Seeding every random number generator a training run touches."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = False) -> int:
    """Seed Python, NumPy and torch (CPU and every CUDA device); optionally force determinism.

    ``deterministic=True`` also asks torch for deterministic algorithms (and sets the cuBLAS
    workspace variable that CUDA needs for them), trading speed for bit-for-bit repeatability.
    Returns the seed so that it can be logged.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}: {seed!r}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}; NumPy rejects anything else")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    os.environ["PL_GLOBAL_SEED"] = str(seed)  # read by DataLoader worker init in some user code
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    return seed
