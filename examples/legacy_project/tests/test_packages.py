"""packages.core re-exports the legacy package through ``from . import training``; the deprecated
optimizer factory warns as the legacy one did (callers rely on that warning)."""

import warnings

import pytest
import torch

from packages.core.reporting import accuracy_percent
from packages.core.training.optimizers import create_optimizer


def test_reporting_reaches_the_legacy_metrics_through_the_parent_package():
    predictions, targets = torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 2, 1])
    assert accuracy_percent(predictions, targets) == pytest.approx(75.0)


def test_the_old_create_optimizer_warns_that_it_is_deprecated_and_delegates():
    params = [torch.nn.Parameter(torch.zeros(3))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizer = create_optimizer(params, optimizer_name="adamw", lr=1e-3)
    assert len(caught) > 0 and issubclass(caught[0].category, DeprecationWarning)
    assert "deprecated" in str(caught[0].message)
    assert isinstance(optimizer, torch.optim.AdamW) and optimizer.param_groups[0]["lr"] == 1e-3
