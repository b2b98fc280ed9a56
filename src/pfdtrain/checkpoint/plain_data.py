"""Plain-data check: a v2 checkpoint must open with ``torch.load(weights_only=True)`` and no allow-list.

Types are compared exactly (not with ``isinstance``): a ``str`` subclass such as
``torch.__version__``, a ``float`` subclass such as ``numpy.float64`` or a ``NamedTuple`` pickle
as their own class, and ``weights_only`` loading would refuse the whole file later. Failing at
save time, with the key path of the bad value, is far cheaper than discovering it on resume.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch

from pfdtrain.checkpoint.errors import CheckpointFormatError

_CONTAINERS = (dict, OrderedDict, list, tuple)
_SCALARS = (str, int, float, bool, type(None))
_TENSORS = (torch.Tensor, torch.nn.Parameter)
_KEY_TYPES = (str, int, float, bool, type(None))

ALLOWED_DESCRIPTION = "dict, list, tuple, str, int, float, bool, None, torch.Tensor"


def validate_plain_data(obj: Any, root: str = "checkpoint") -> None:
    """Raise :class:`CheckpointFormatError` naming the key path of the first non-plain value.

    Allowed: dict (and OrderedDict, as returned by ``state_dict()``), list, tuple, str, int,
    float, bool, None and torch tensors. Reference cycles are rejected too (they cannot be a
    sensible checkpoint and would recurse forever).
    """
    _check(obj, root, set())


def _check(obj: Any, path: str, active: set[int]) -> None:
    kind = type(obj)
    if kind in _SCALARS or kind in _TENSORS:
        return
    if kind not in _CONTAINERS:
        raise CheckpointFormatError(
            f"{path}: {_type_name(obj)} is not plain data (allowed: {ALLOWED_DESCRIPTION}). "
            f"{_hint(obj)}"
        )
    if id(obj) in active:
        raise CheckpointFormatError(f"{path}: contains itself (a reference cycle); a checkpoint must be a tree")
    active.add(id(obj))
    try:
        if kind in (dict, OrderedDict):
            for key, value in obj.items():
                if type(key) not in _KEY_TYPES:
                    raise CheckpointFormatError(
                        f"{path}: key {key!r} of type {_type_name(key)} is not plain data; "
                        "dict keys must be str, int, float, bool or None"
                    )
                _check(value, f"{path}[{key!r}]", active)
            if kind is OrderedDict:  # state_dict() attaches `_metadata`; it is pickled too
                for attr, value in vars(obj).items():
                    _check(value, f"{path}.{attr}", active)
        else:
            for index, value in enumerate(obj):
                _check(value, f"{path}[{index}]", active)
    finally:
        active.discard(id(obj))


def _type_name(obj: Any) -> str:
    kind = type(obj)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _hint(obj: Any) -> str:
    """A concrete conversion for the usual suspects; a generic one otherwise."""
    import argparse
    import enum
    import os

    if isinstance(obj, argparse.Namespace):
        return "Convert it to a dict first, e.g. vars(args)."
    if isinstance(obj, os.PathLike):
        return "Store it as a string: str(path)."
    if isinstance(obj, torch.nn.Module):
        return "Store its weights instead: module.state_dict()."
    if isinstance(obj, torch.optim.Optimizer):
        return "Store optimizer.state_dict() instead."
    if isinstance(obj, (torch.dtype, torch.device)):
        return "Store it as a string: str(value)."
    if isinstance(obj, torch.Tensor):
        return ("Tensor subclasses are refused by weights_only loading; store a plain tensor "
                "(t.as_subclass(torch.Tensor)).")
    if callable(obj):
        return ("Functions and classes cannot be stored safely; store a name or a config dict and rebuild the "
                "object on load.")
    if type(obj).__module__ == "numpy":
        return "Convert NumPy values with .item() / .tolist() or torch.from_numpy(array)."
    if isinstance(obj, (set, frozenset)):
        return "Store it as a sorted list."
    if isinstance(obj, (bytes, bytearray)):
        return "Store bytes as a uint8 tensor: torch.frombuffer(bytearray(b), dtype=torch.uint8)."
    if isinstance(obj, tuple) and hasattr(obj, "_asdict"):
        return "Convert the named tuple to a dict: value._asdict()."
    if isinstance(obj, enum.Enum):
        return "Store the enum's .value (or .name) instead."
    if isinstance(obj, (str, int, float, tuple, dict, list)):
        return f"Convert it to a plain {_base(obj)}: {_base(obj)}(value)."
    return "Convert it to a dict of plain values (and rebuild the object on load)."


def _base(obj: Any) -> str:
    for base in (bool, int, float, str, tuple, list, dict):
        if isinstance(obj, base):
            return base.__name__
    return "dict"
