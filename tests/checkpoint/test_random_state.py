import random
import warnings

import numpy as np
import pytest
import torch

from pfdtrain.checkpoint import (
    capture_random_state,
    load,
    new_checkpoint,
    restore_random_state,
    save,
    validate_plain_data,
)


def _draws():
    return (
        [random.random() for _ in range(3)] + [random.gauss(0.0, 1.0) for _ in range(3)],
        np.random.rand(3).tolist() + np.random.randn(3).tolist() + np.random.randint(0, 10**9, 3).tolist(),
        torch.rand(3).tolist() + torch.randn(3).tolist() + torch.randint(0, 10**9, (3,)).tolist(),
    )


def _scramble():
    random.seed(999)
    np.random.seed(999)
    torch.manual_seed(999)


@pytest.fixture
def mid_stream_state():
    """Generators part-way through, with a cached Gaussian in both Python and NumPy."""
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    random.gauss(0.0, 1.0)  # leaves gauss_next set
    np.random.randn(1)  # leaves has_gauss == 1 (the legacy generator makes pairs)
    torch.rand(5)
    state = capture_random_state()
    assert state["python"][2] is not None and state["numpy"]["has_gauss"] == 1
    return state


def test_layout_is_plain_data(mid_stream_state):
    state = mid_stream_state
    assert list(state) == ["python", "numpy", "torch", "cuda"]
    validate_plain_data(state)
    assert state["torch"].dtype == torch.uint8
    assert state["numpy"]["keys"].shape == (624,)
    assert state["numpy"]["bit_generator"] == "MT19937"


@pytest.mark.skipif(torch.cuda.is_available() and torch.cuda.is_initialized(), reason="CUDA in use")
def test_cuda_entry_is_empty_without_initialised_cuda(mid_stream_state):
    assert mid_stream_state["cuda"] == []


def test_capture_never_initialises_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)

    def fail():
        raise AssertionError("reading CUDA RNG states would initialise CUDA")

    monkeypatch.setattr(torch.cuda, "get_rng_state_all", fail)
    assert capture_random_state()["cuda"] == []


def test_capture_reads_cuda_when_initialised(monkeypatch):
    states = [torch.arange(16, dtype=torch.uint8), torch.ones(16, dtype=torch.uint8)]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: states)
    captured = capture_random_state()["cuda"]
    assert len(captured) == 2 and all(torch.equal(a, b) for a, b in zip(captured, states, strict=False))


def test_restore_gives_the_same_draws(mid_stream_state):
    expected = _draws()
    _scramble()
    restore_random_state(mid_stream_state)
    assert _draws() == expected


def test_restore_after_save_and_weights_only_load(mid_stream_state, tmp_path):
    expected = _draws()
    path = save(new_checkpoint(random_state=mid_stream_state), tmp_path / "rng.pth")
    torch.load(path, weights_only=True)  # opens without an allow-list
    _scramble()
    restore_random_state(load(path)["random_state"])
    assert _draws() == expected


def test_restore_converts_state_tensors_to_cpu_uint8(mid_stream_state):
    # Tensors that load(map_location=...) put elsewhere are brought back to the CPU.
    expected = _draws()
    moved = dict(mid_stream_state, torch=mid_stream_state["torch"].to(torch.int64))
    _scramble()
    restore_random_state(moved)
    assert _draws() == expected


def test_restore_accepts_lists_as_from_json(mid_stream_state):
    expected = _draws()
    state = mid_stream_state
    as_lists = {
        "python": [state["python"][0], list(state["python"][1]), state["python"][2]],
        "numpy": {**state["numpy"], "keys": state["numpy"]["keys"].tolist()},
        "torch": state["torch"].tolist(),
        "cuda": [],
    }
    _scramble()
    restore_random_state(as_lists)
    assert _draws() == expected


def test_missing_or_none_entries_leave_generators_alone():
    torch.manual_seed(5)
    expected_torch = torch.rand(3)
    torch.manual_seed(5)
    restore_random_state({"python": None, "numpy": None})
    assert torch.equal(torch.rand(3), expected_torch)


def test_unknown_entries_are_rejected():
    with pytest.raises(ValueError, match="mystery"):
        restore_random_state({"mystery": 1})
    with pytest.raises(TypeError):
        restore_random_state([1, 2])


def test_cuda_states_for_another_device_count_warn_once(monkeypatch, mid_stream_state):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    restored = []
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda states: restored.append(states))
    state = dict(mid_stream_state, cuda=[torch.zeros(16, dtype=torch.uint8)] * 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        restore_random_state(state)
    cuda_warnings = [w for w in caught if "CUDA" in str(w.message)]
    assert len(cuda_warnings) == 1
    assert "2 device(s)" in str(cuda_warnings[0].message) and "1 CUDA device(s)" in str(cuda_warnings[0].message)
    assert restored == []


def test_cuda_states_are_restored_on_cpu_when_device_count_matches(monkeypatch, mid_stream_state):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    restored = []
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda states: restored.append(states))
    cuda = [torch.arange(16, dtype=torch.uint8), torch.full((16,), 7, dtype=torch.uint8)]
    restore_random_state(dict(mid_stream_state, cuda=cuda))
    (states,) = restored
    assert all(s.device.type == "cpu" and s.dtype == torch.uint8 for s in states)
    assert all(torch.equal(a, b) for a, b in zip(states, cuda, strict=False))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_real_cuda_roundtrip_through_a_file(tmp_path):
    torch.cuda.init()
    torch.cuda.manual_seed_all(7)
    torch.rand(3, device="cuda")
    state = capture_random_state()
    assert len(state["cuda"]) == torch.cuda.device_count()
    expected = torch.rand(5, device="cuda").cpu()
    path = save(new_checkpoint(random_state=state), tmp_path / "rng.pth")
    torch.cuda.manual_seed_all(99)
    restore_random_state(load(path, map_location="cuda")["random_state"])
    assert torch.equal(torch.rand(5, device="cuda").cpu(), expected)
