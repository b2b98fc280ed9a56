"""Every pfdtrain name the README and docs/ tell users to import resolves (imports are part of the API)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FROM_IMPORT = re.compile(r"^\s*from (pfdtrain[\w.]*) import ([\w, ()]+)", re.M)
_DOTTED = re.compile(r"`(pfdtrain(?:\.\w+)+)(?![\w/])")  # not schema ids such as pfdtrain.scan/1


def documented_names() -> list[str]:
    names: set[str] = set()
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for module, imported in _FROM_IMPORT.findall(text):
            names.update(f"{module}.{n.strip()}" for n in imported.strip("()").split(",") if n.strip())
        names.update(_DOTTED.findall(text))
    return sorted(names)


def resolve(dotted: str) -> object:
    """Import the longest importable module prefix of ``dotted``, then walk the attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as exc:
            if exc.name is None or not ".".join(parts[:cut]).startswith(exc.name):
                raise  # the module exists but one of its own imports is missing
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def test_the_docs_name_the_documented_entry_points():
    names = documented_names()
    assert "pfdtrain.checkpoint.load_any" in names and "pfdtrain.Trainer" in names


@pytest.mark.parametrize("dotted", documented_names())
def test_documented_name_resolves(dotted: str) -> None:
    assert resolve(dotted) is not None
