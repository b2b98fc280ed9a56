"""Which ``training`` package an import reaches: the legacy package, or a vendored copy.

Real repositories hold more than one ``training`` package. LSTM-PFD keeps the legacy one at
``packages/core/training`` and ships older snapshots in ``milestones/milestone-N/training``, whose
scripts put their milestone folder first on ``sys.path``: their ``from training.x import y``
imports the snapshot, not the legacy package. Rewriting such an import to ``pfdtrain.compat``
would swap the code that runs, so those imports are left as written and reported.

The rules, on paths relative to the root being rewritten:

* the legacy package lives at the root's own ``training/`` or at any ``.../packages/core/training``,
  whether it is still on disk or already deleted;
* any other folder named ``training`` that holds Python files is a *vendored copy*;
* a bare ``training`` import resolves to the copy the file lies in, else to the copy in the nearest
  ancestor folder of the file (strictly below the root), else to the legacy package;
* ``packages.core.training`` always names the legacy package;
* a relative import resolves by the file's location (``from . import training`` in
  ``packages/core/__init__.py`` reaches ``packages/core/training``).

Without a root (one file's bytes, no repository) nothing is looked up on disk: only the file's own
path decides.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath

PACKAGE = "training"
LEGACY = "legacy"
VENDORED = "vendored"

Parts = tuple[str, ...]


def is_legacy_location(folder: Parts) -> bool:
    """``training`` at the root, or ``.../packages/core/training``."""
    return folder == (PACKAGE,) or folder[-3:] == ("packages", "core", PACKAGE)


@lru_cache(maxsize=4096)
def _holds_python(folder: str) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(entry.name.endswith(".py") and entry.is_file() for entry in entries)
    except OSError:
        return False


@dataclass(frozen=True)
class Reach:
    """Where an import lands: ``kind`` is :data:`LEGACY` or :data:`VENDORED`; ``folder`` is the
    ``training`` folder (``/``-separated, relative to the root); ``module`` the canonical legacy
    module the import names (``training.losses``; ``training`` for the package itself)."""

    kind: str
    folder: str
    module: str = PACKAGE


class RepoLayout:
    """The ``training`` folders of one repository root (see the module docstring)."""

    def __init__(self, root: str | Path | None) -> None:
        self.root = None if root is None else Path(os.path.abspath(root))

    def parts(self, path: str | PurePath) -> Parts | None:
        """``path`` relative to the root as parts; without a root, the path's own parts (no anchor).
        None for a file outside the root."""
        if self.root is None:
            pure = PurePath(path)
            return pure.parts[1:] if pure.anchor else pure.parts
        absolute = Path(os.path.abspath(path))
        try:
            return absolute.relative_to(self.root).parts
        except ValueError:
            return None

    def classify(self, folder: Parts, holds_file: bool = False) -> str | None:
        """What the ``training`` folder ``folder`` is: legacy, vendored, or None (no such package).
        ``holds_file``: the importing file lies inside it (so it exists)."""
        if is_legacy_location(folder):
            return LEGACY
        if holds_file:
            return VENDORED
        if self.root is not None and _holds_python(str(self.root.joinpath(*folder))):
            return VENDORED
        return None

    def package_of(self, parts: Parts) -> Reach | None:
        """The ``training`` package a file lies in (innermost), or None."""
        folders = parts[:-1]
        for i in range(len(folders) - 1, -1, -1):
            if folders[i] == PACKAGE:
                folder = folders[: i + 1]
                kind = self.classify(folder, holds_file=True)
                assert kind is not None
                return Reach(kind, "/".join(folder))
        return None

    def bare_import(self, parts: Parts) -> Reach:
        """Where ``import training...`` from the file with these parts resolves."""
        inside = self.package_of(parts)
        if inside is not None:
            return inside
        folders = parts[:-1]
        for k in range(len(folders), 0, -1):
            folder = (*folders[:k], PACKAGE)
            kind = self.classify(folder)
            if kind is not None:
                return Reach(kind, "/".join(folder))
        return Reach(LEGACY, PACKAGE)

    def relative_import(self, parts: Parts, level: int, module: str | None, name: str | None) -> Reach | None:
        """Where ``from <dots><module> import <name>`` reaches, when that is a ``training`` package
        (the module itself, or ``name`` imported from its parent); None otherwise. ``name`` None:
        only the module is looked at."""
        folders = parts[:-1]
        if level - 1 > len(folders):
            return None  # above the root: not ours to judge
        full = (*folders[: len(folders) - (level - 1)], *(module.split(".") if module else ()))
        holds = lambda folder: folders[: len(folder)] == folder  # noqa: E731 - the file lies inside
        for i in range(len(full) - 1, -1, -1):
            if full[i] == PACKAGE:
                folder = full[: i + 1]
                kind = self.classify(folder, holds(folder))
                if kind is None:
                    return None
                return Reach(kind, "/".join(folder), ".".join((PACKAGE, *full[i + 1:])))
        if name == PACKAGE:
            folder = (*full, PACKAGE)
            kind = self.classify(folder, holds(folder))
            return None if kind is None else Reach(kind, "/".join(folder))
        return None


@lru_cache(maxsize=64)
def layout_for(root: str | None) -> RepoLayout:
    """One :class:`RepoLayout` per root and process (worker processes build their own)."""
    return RepoLayout(root)


def clear_caches() -> None:
    """Forget what was seen on disk (a new run may follow changes to the tree)."""
    _holds_python.cache_clear()
    layout_for.cache_clear()


_SKIP = frozenset({"__pycache__", "node_modules", "site-packages", "dist-packages"})


def find_legacy_packages(root: str | Path) -> list[Path]:
    """The legacy package folders under ``root`` that are still on disk (``training/`` at the root,
    any ``packages/core/training``), holding Python files; hidden folders and virtual environments
    are not searched."""
    base = Path(root)
    found: list[Path] = []
    for folder, dirs, _files in os.walk(base):
        here = Path(folder)
        keep = []
        for name in sorted(dirs):
            path = here / name
            if name.startswith(".") or name in _SKIP or (path / "pyvenv.cfg").exists():
                continue
            if name == PACKAGE and is_legacy_location(path.relative_to(base).parts) and _holds_python(str(path)):
                found.append(path)
                continue  # its own subfolders are part of it
            keep.append(name)
        dirs[:] = keep
    return found
