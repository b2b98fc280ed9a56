"""Shared fixtures: tiny models and loaders that train in milliseconds on CPU."""

from __future__ import annotations

import pytest
from torch.utils.data import DataLoader

from pfd_testing import TinyNet, make_loader, make_model


@pytest.fixture
def loader() -> DataLoader:
    return make_loader()


@pytest.fixture
def model() -> TinyNet:
    return make_model()
