"""Small CPU runs: one thread keeps them fast and their numbers stable."""

import pytest
import torch

PROJECT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)



@pytest.fixture
def shipped():
    """The checkpoints shipped with the project (written by its own train scripts; see README)."""
    return PROJECT / "checkpoints"
