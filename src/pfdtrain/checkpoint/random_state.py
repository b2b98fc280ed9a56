"""Capture and restore every global random stream as plain data, so a resumed run continues exactly.

Everything is stored as tuples, ints, floats and tensors, which survive
``torch.load(weights_only=True)``. CUDA states are read only when CUDA is already initialised:
reading them would otherwise initialise CUDA (slow, and fatal in a process that forks later).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

RANDOM_STATE_KEYS: tuple[str, ...] = ("python", "numpy", "torch", "cuda")


def snapshot_random_state() -> tuple[Any, ...]:
    """Cheap raw snapshot (no conversion) for states that are usually never saved.

    The Trainer takes one at every epoch start in case a mid-epoch checkpoint needs it;
    :func:`plain_random_state` converts it to plain data only when a checkpoint is written.
    """
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = [state.clone() for state in torch.cuda.get_rng_state_all()]
    else:
        cuda = []
    return (random.getstate(), np.random.get_state(legacy=True), torch.get_rng_state(), cuda)


def plain_random_state(snapshot: tuple[Any, ...]) -> dict[str, Any]:
    """The plain-data form of a :func:`snapshot_random_state` result (what checkpoints hold)."""
    (version, internal, gauss_next), numpy_state, torch_state, cuda = snapshot
    name, keys, pos, has_gauss, cached_gaussian = numpy_state
    return {
        "python": (int(version), tuple(int(x) for x in internal), None if gauss_next is None else float(gauss_next)),
        "numpy": {
            "bit_generator": str(name),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64).copy()),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch_state.clone(),
        "cuda": list(cuda),
    }


def capture_random_state() -> dict[str, Any]:
    """Snapshot of Python's ``random``, NumPy's legacy global RNG, torch CPU and CUDA RNGs.

    ``cuda`` is a list with one uint8 state tensor per device, or ``[]`` when CUDA is
    unavailable or not initialised yet (nothing has drawn from it then).
    """
    return plain_random_state(snapshot_random_state())


def restore_random_state(state: Mapping[str, Any]) -> None:
    """Put back what :func:`capture_random_state` returned (also after a save/load roundtrip).

    Tensors may live on any device (``load(map_location="cuda")``); they are moved to the CPU
    as the setters require. A missing or ``None`` entry leaves that generator untouched. CUDA
    states are restored only when the number of devices matches; otherwise one warning says
    that CUDA random streams will differ from the original run.
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"restore_random_state() expects the dict from capture_random_state(), got {type(state).__name__}"
        )
    unknown = set(state) - set(RANDOM_STATE_KEYS)
    if unknown:
        raise ValueError(
            f"unknown random state entries {sorted(map(str, unknown))}; expected {list(RANDOM_STATE_KEYS)}"
        )

    python_state = state.get("python")
    if python_state is not None:
        version, internal, gauss_next = python_state
        gauss = None if gauss_next is None else float(gauss_next)
        random.setstate((int(version), tuple(int(x) for x in _as_list(internal)), gauss))

    numpy_state = state.get("numpy")
    if numpy_state is not None:
        keys = np.asarray(_as_list(numpy_state["keys"]), dtype=np.int64).astype(np.uint32)
        np.random.set_state(
            (
                str(numpy_state.get("bit_generator", "MT19937")),
                keys,
                int(numpy_state["pos"]),
                int(numpy_state["has_gauss"]),
                float(numpy_state["cached_gaussian"]),
            )
        )

    torch_state = state.get("torch")
    if torch_state is not None:
        torch.set_rng_state(_cpu_bytes(torch_state))

    cuda_states = state.get("cuda")
    if cuda_states:
        available = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if available == len(cuda_states):
            torch.cuda.set_rng_state_all([_cpu_bytes(s) for s in cuda_states])
        else:
            warnings.warn(
                f"The random state holds CUDA generator states for {len(cuda_states)} device(s) but "
                f"{available} CUDA device(s) are available here; CUDA random streams were not "
                "restored, so GPU-side randomness (dropout on GPU...) will differ from the original run.",
                RuntimeWarning,
                stacklevel=2,
            )


def _as_list(values: Any) -> list:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().tolist()
    return list(values)


def _cpu_bytes(value: Any) -> torch.Tensor:
    """The RNG setters want a CPU uint8 tensor; accept a tensor on any device or a list."""
    if isinstance(value, torch.Tensor):
        return value.detach().to(device="cpu", dtype=torch.uint8).contiguous()
    return torch.tensor(list(value), dtype=torch.uint8)
