"""Golden training replay: the legacy trainers and both callback APIs, through their adapters.

One test per case of ``golden/training/*.json`` (56). Each case runs its steps in a fresh
temporary directory and must reproduce the recorded stdout, log records (timings masked),
return values, exceptions, snapshots, records and files (keys and tensors) within the case
tolerance. See ``training_replay`` for the DSL and the comparison rules.
"""

from __future__ import annotations

import sys

import pytest
import torch
from training_replay import Fixtures, compare_case, load_cases, run_case

CASES = load_cases()

#: Packages that were not installed where a case was recorded (its quirks say so): hidden from the
#: replay (an import fails, find_spec gives None) while the test extra installs them for the loggers' tests.
NOT_INSTALLED_WHEN_RECORDED = {
    "trainer.fit.loggers_unavailable": ("tensorboard", "torch.utils.tensorboard", "mlflow"),
}


@pytest.fixture(scope="module")
def fixtures() -> Fixtures:
    return Fixtures()


@pytest.fixture
def recording_settings():
    """The recording environment: one thread, deterministic algorithms (restored afterwards)."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(deterministic)
    torch.set_num_threads(threads)


def test_every_group_has_its_cases():
    assert len(CASES) == 56
    assert len({c["id"] for c in CASES}) == 56


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_golden_training_case(case, fixtures, tmp_path, recording_settings, monkeypatch):
    for name in NOT_INSTALLED_WHEN_RECORDED.get(case["id"], ()):
        monkeypatch.setitem(sys.modules, name, None)
    outcomes, records, files = run_case(case, fixtures, tmp_path)
    compare_case(case, outcomes, records, files)
