"""The v1 checkpoint zoo and its manifest, for tests (importable: tests/ is on pytest's pythonpath).

Expected values come from ``golden/training/checkpoints_v1/manifest.json``, recorded from the
legacy code: never from the code under test. ``matches_content`` reads the manifest's value
encoding (see ``golden/training/README.md``, "Value encoding").
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "golden" / "training" / "checkpoints_v1"
MANIFEST = json.loads((ZOO / "manifest.json").read_text(encoding="utf-8"))
ENTRIES: dict[str, dict[str, Any]] = {e["file"]: e for e in MANIFEST["entries"]}
PWNED = MANIFEST["pwned_file_name"]

LOADABLE = sorted(f for f, e in ENTRIES.items() if e["status"] in ("loadable", "loadable_with_allowlist"))
MUST_REFUSE = sorted(f for f, e in ENTRIES.items() if e["must_refuse"])
CORRUPT = sorted(f for f, e in ENTRIES.items() if e["corrupt"])


def tensor_sha256(t: torch.Tensor) -> str:
    """The manifest's hash: bytes of the flattened contiguous tensor (``int_repr()`` when quantized)."""
    t = t.detach().cpu()
    if t.is_quantized:
        t = t.int_repr()
    return hashlib.sha256(t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()


def dtype_name(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def copy_zoo(destination: Path, names: list[str] | None = None) -> Path:
    """Copy zoo files (all but the manifest by default) into ``destination``; golden/ is never touched."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in names if names is not None else sorted(ENTRIES):
        shutil.copyfile(ZOO / name, destination / name)
    return destination


def get_path(obj: Any, path: list[Any]) -> Any:
    for key in path:
        obj = obj[key]
    return obj


def all_tensors(obj: Any) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, Mapping):
        return [t for v in obj.values() for t in all_tensors(v)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in all_tensors(v)]
    return []


def pwned_markers() -> list[Path]:
    """Every place the malicious payloads could have created their marker file."""
    return [p for p in (Path.cwd() / PWNED, REPO / PWNED, ZOO / PWNED) if p.exists()]


def matches_content(value: Any, encoded: Any, path: str = "content") -> None:
    """Assert that ``value`` is what the manifest's ``content`` encoding describes.

    Paths may come back as the plain string (what a migration makes of them) and torch dtypes as
    ``torch.<name>`` text (v2 is plain data) or as the dtype itself (a downgrade restores it).
    """
    if isinstance(encoded, dict) and "tensor_key" in encoded:
        assert isinstance(value, torch.Tensor), f"{path}: expected a tensor, got {type(value).__name__}"
        assert dtype_name(value) == encoded["dtype"] and list(value.shape) == encoded["shape"], path
        assert tensor_sha256(value) == encoded["sha256"], f"{path}: tensor bytes differ"
    elif isinstance(encoded, dict) and set(encoded) == {"tuple"}:
        assert isinstance(value, tuple) and len(value) == len(encoded["tuple"]), path
        for i, (v, e) in enumerate(zip(value, encoded["tuple"], strict=True)):
            matches_content(v, e, f"{path}[{i}]")
    elif isinstance(encoded, dict) and set(encoded) == {"float"}:
        expected = float(encoded["float"])
        assert isinstance(value, float) and (value == expected or (math.isnan(value) and math.isnan(expected))), path
    elif isinstance(encoded, dict) and set(encoded) == {"dict_items"}:
        assert isinstance(value, Mapping) and list(value) == [k for k, _ in encoded["dict_items"]], path
        for key, item in encoded["dict_items"]:
            matches_content(value[key], item, f"{path}[{key!r}]")
    elif isinstance(encoded, dict) and set(encoded) == {"path", "class"}:
        assert value == encoded["path"] and type(value) is str, f"{path}: {value!r} != {encoded['path']!r}"
    elif isinstance(encoded, dict) and set(encoded) == {"torch_dtype"}:
        name = encoded["torch_dtype"]
        assert value == getattr(torch, name) or value == f"torch.{name}", f"{path}: {value!r}"
    elif isinstance(encoded, dict):
        assert isinstance(value, Mapping), f"{path}: expected a dict, got {type(value).__name__}"
        assert list(value) == list(encoded), f"{path}: keys {list(value)} != {list(encoded)}"
        for key in encoded:
            matches_content(value[key], encoded[key], f"{path}[{key!r}]")
    elif isinstance(encoded, list):
        assert isinstance(value, list) and len(value) == len(encoded), f"{path}: {value!r}"
        for i, (v, e) in enumerate(zip(value, encoded, strict=True)):
            matches_content(v, e, f"{path}[{i}]")
    else:
        assert type(value) is type(encoded) and value == encoded, f"{path}: {value!r} != {encoded!r}"


class TinyCNN(torch.nn.Module):
    """The zoo's ``tiny_cnn_c3`` architecture (golden/training/README.md, "Models")."""

    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(1, 4, kernel_size=5, padding=2)
        self.relu = torch.nn.ReLU()
        self.pool = torch.nn.AdaptiveAvgPool1d(1)
        self.flatten = torch.nn.Flatten()
        self.fc = torch.nn.Linear(4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.pool(self.relu(self.conv(x)))))
