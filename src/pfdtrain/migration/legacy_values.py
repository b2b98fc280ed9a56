"""Harmless legacy globals, read without importing or running their real classes.

Old checkpoints hold a few Python objects that are not plain data but carry nothing dangerous:
``argparse.Namespace`` (training-script arguments), ``pathlib`` paths (``WindowsPath`` cannot
even be built on Linux), NumPy scalars and dtypes. Each one is mapped, by its pickled name, to a
stand-in defined here (see :data:`ALIASES`) that keeps only text and numbers;
:func:`to_plain_data` then turns every stand-in (and the non-plain values torch itself allows,
such as ``torch.dtype``) into plain data and records what it changed, so that nothing is lost
and a downgrade can put back what legacy readers need.
"""

from __future__ import annotations

import copy
import functools
import pathlib
import re
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any

import torch

_NUMPY_KIND = re.compile(r"^[<>=|]?[biufc]\d{1,2}$")


class LegacyPathText(str):
    """The text of a pickled ``pathlib`` path; ``legacy_class`` names the class it was pickled as."""

    legacy_class: str = "pathlib.Path"

    def __new__(cls, text: str, legacy_class: str) -> LegacyPathText:
        value = super().__new__(cls, text)
        value.legacy_class = legacy_class
        return value


def _path_stand_in(pickled_name: str, flavour: type[pathlib.PurePath]) -> Callable[..., LegacyPathText]:
    """``pathlib.X(*parts)`` as the unpickler calls it; a pure path only joins text (no file access)."""

    def rebuild(*parts: Any) -> LegacyPathText:
        if not all(isinstance(part, str) for part in parts):
            raise TypeError(f"{pickled_name}: path parts must be strings")
        return LegacyPathText(str(flavour(*parts)), pickled_name)

    rebuild.__qualname__ = rebuild.__name__ = f"stand_in_for_{pickled_name.replace('.', '_')}"
    return rebuild


class LegacyNamespace:
    """Stand-in for ``argparse.Namespace``: the unpickler creates it empty, then sets its fields."""

    def __init__(self, **values: Any) -> None:
        self.values: dict[str, Any] = dict(values)

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise TypeError("argparse.Namespace state must be a dict")
        self.values = dict(state)


class LegacyNumpyDtype:
    """Stand-in for ``numpy.dtype``: keeps the type code (``'f8'``) and the byte order."""

    def __init__(self, spec: Any = "", align: Any = False, copy: Any = False) -> None:
        if not isinstance(spec, str):
            raise TypeError("numpy.dtype spec must be a string")
        self.spec = spec
        self.byteorder = "="

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            self.byteorder = state[1]

    def to_numpy(self) -> Any:
        """The real dtype, for numeric codes only (an object dtype would read bytes as pointers)."""
        import numpy as np

        if not _NUMPY_KIND.match(self.spec):
            raise TypeError(f"numpy dtype {self.spec!r} is not a plain numeric type")
        dtype = np.dtype(self.spec)
        if self.byteorder == "<":
            return dtype.newbyteorder("<")
        if self.byteorder == ">":
            return dtype.newbyteorder(">")
        return dtype

    def name(self) -> str:
        try:
            return str(self.to_numpy().name)
        except TypeError:
            return self.spec


def legacy_numpy_scalar(dtype: Any, data: Any = b"") -> Any:
    """Stand-in for ``numpy.core.multiarray.scalar(dtype, raw_bytes)``: a Python int/float/bool."""
    import numpy as np

    if not isinstance(dtype, LegacyNumpyDtype) or not isinstance(data, (bytes, bytearray)):
        raise TypeError("numpy scalar: expected a numpy dtype and raw bytes")
    np_dtype = dtype.to_numpy()
    if len(data) != np_dtype.itemsize:
        raise ValueError(f"numpy scalar: {len(data)} bytes for a {np_dtype.itemsize}-byte {np_dtype.name}")
    return np.frombuffer(bytes(data), dtype=np_dtype, count=1)[0].item()


def _path_aliases() -> dict[str, Any]:
    flavours = {
        "PosixPath": pathlib.PurePosixPath,
        "PurePosixPath": pathlib.PurePosixPath,
        "WindowsPath": pathlib.PureWindowsPath,
        "PureWindowsPath": pathlib.PureWindowsPath,
    }
    aliases = {}
    for module in ("pathlib", "pathlib._local"):  # Python 3.13 pickles paths from pathlib._local
        for name, flavour in flavours.items():
            aliases[f"{module}.{name}"] = _path_stand_in(f"pathlib.{name}", flavour)
    return aliases


#: Pickled global name -> harmless stand-in used while unpickling (``safe_globals`` pairs).
ALIASES: dict[str, Any] = {
    "argparse.Namespace": LegacyNamespace,
    "numpy.dtype": LegacyNumpyDtype,
    "numpy.core.multiarray.scalar": legacy_numpy_scalar,
    "numpy._core.multiarray.scalar": legacy_numpy_scalar,
    **_path_aliases(),
}

#: Conversions a downgrade undoes (legacy readers expect these objects back).
_REVERSIBLE = ("torch.dtype", "torch.device", "torch.qscheme", "torch.Size", "bytes")


def to_plain_data(obj: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Replace stand-ins and torch's non-plain values by plain data; return (object, conversions).

    Containers are changed in place (they were just unpickled and belong to the caller); tensors
    are never copied. Each conversion is ``{"path": [key, ...], "from": "pathlib.WindowsPath"}``.
    Values that have no plain form are left as they are, for ``validate_plain_data`` to report.
    """
    conversions: list[dict[str, Any]] = []
    return _convert(obj, [], conversions, set()), conversions


def _convert(obj: Any, path: list[Any], out: list[dict[str, Any]], active: set[int]) -> Any:
    kind = type(obj)
    if kind in (str, int, float, bool, type(None)) or isinstance(obj, torch.Tensor):
        return obj
    plain = _plain_scalar(obj)
    if plain is not _NOT_CONVERTED:
        out.append({"path": list(path), "from": plain[1]})
        return plain[0]
    if id(obj) in active:  # a reference cycle: left for validate_plain_data to report
        return obj
    active.add(id(obj))
    try:
        if isinstance(obj, LegacyNamespace):
            out.append({"path": list(path), "from": "argparse.Namespace"})
            return {k: _convert(v, [*path, k], out, active) for k, v in obj.values.items()}
        if kind is Counter:
            out.append({"path": list(path), "from": "collections.Counter"})
            return {k: _convert(v, [*path, k], out, active) for k, v in obj.items()}
        if kind in (dict, OrderedDict):
            for key, value in obj.items():
                new = _convert(value, [*path, key], out, active)
                if new is not value:
                    obj[key] = new
            return obj
        if kind is list:
            for index, value in enumerate(obj):
                new = _convert(value, [*path, index], out, active)
                if new is not value:
                    obj[index] = new
            return obj
        if kind is tuple:
            items = [_convert(value, [*path, i], out, active) for i, value in enumerate(obj)]
            return obj if all(a is b for a, b in zip(items, obj, strict=False)) else tuple(items)
        if kind in (set, frozenset):
            out.append({"path": list(path), "from": kind.__name__})
            return _sorted_if_possible(obj)
        return obj
    finally:
        active.discard(id(obj))


_NOT_CONVERTED = object()


def _plain_scalar(obj: Any) -> Any:
    """(plain value, original type name) for scalar-like legacy values, else ``_NOT_CONVERTED``."""
    if isinstance(obj, LegacyPathText):
        return str(obj), obj.legacy_class
    if isinstance(obj, LegacyNumpyDtype):
        return obj.name(), "numpy.dtype"
    if isinstance(obj, torch.dtype):
        return str(obj), "torch.dtype"
    if isinstance(obj, torch.device):
        return str(obj), "torch.device"
    if isinstance(obj, torch.qscheme):
        return str(obj), "torch.qscheme"
    if isinstance(obj, torch.Size):
        return tuple(int(n) for n in obj), "torch.Size"
    if isinstance(obj, (bytes, bytearray)):
        if not obj:
            return torch.zeros(0, dtype=torch.uint8), "bytes"
        return torch.frombuffer(bytearray(obj), dtype=torch.uint8).clone(), "bytes"
    if type(obj).__module__.startswith("numpy"):  # real NumPy objects, admitted with --allow-global
        return _plain_numpy(obj)
    for base in (bool, int, float, str):  # numpy.float64, str subclasses... pickle as their own class
        if isinstance(obj, base) and type(obj) is not base:
            return base(obj), f"{type(obj).__module__}.{type(obj).__qualname__}"
    return _NOT_CONVERTED


def _plain_numpy(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc":
        return torch.from_numpy(np.ascontiguousarray(obj).copy()), "numpy.ndarray"
    if isinstance(obj, np.generic) and obj.dtype.kind in "biufc":
        return obj.item(), f"numpy.{type(obj).__name__}"
    if isinstance(obj, np.dtype):
        return obj.name, "numpy.dtype"
    return _NOT_CONVERTED


def _sorted_if_possible(values: Any) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return list(values)


def restore_legacy_values(obj: Any, conversions: list[dict[str, Any]]) -> Any:
    """Undo the reversible conversions (torch dtypes, devices, qschemes, sizes, bytes).

    Copy-on-write: containers on the way to a restored value are copied, so ``obj`` (which may
    share them with a v2 checkpoint) is never modified. Paths, namespaces and NumPy values stay
    plain: a legacy reader on torch >= 2.6 loads with ``weights_only=True`` and would refuse them.
    """
    for entry in conversions:
        kind = entry.get("from")
        if isinstance(kind, str) and kind in _REVERSIBLE:
            obj = _replace_at(obj, list(entry.get("path", [])), functools.partial(_restore_one, kind=kind))
    return obj


def _replace_at(node: Any, path: list[Any], change: Callable[[Any], Any]) -> Any:
    """A copy of ``node`` with the value at ``path`` changed (only the containers on the path are copied)."""
    if not path:
        return change(node)
    key, rest = path[0], path[1:]
    try:
        child = node[key]
    except (KeyError, IndexError, TypeError):
        return node  # the value moved or is gone: nothing to restore
    new_child = _replace_at(child, rest, change)
    if new_child is child:
        return node
    if isinstance(node, tuple):
        return tuple(new_child if i == key else item for i, item in enumerate(node))
    copied = copy.copy(node)  # OrderedDict keeps its _metadata
    copied[key] = new_child
    return copied


def _restore_one(value: Any, kind: str) -> Any:
    if kind in ("torch.dtype", "torch.qscheme") and isinstance(value, str) and value.startswith("torch."):
        found = getattr(torch, value[len("torch."):], None)
        return found if isinstance(found, (torch.dtype, torch.qscheme)) else value
    if kind == "torch.device" and isinstance(value, str):
        return torch.device(value)
    if kind == "torch.Size" and isinstance(value, (list, tuple)):
        return torch.Size(value)
    if kind == "bytes" and isinstance(value, torch.Tensor) and value.dtype == torch.uint8:
        return bytes(value.numpy().tobytes())
    return value
