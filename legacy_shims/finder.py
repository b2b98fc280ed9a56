"""Meta-path finder that serves the legacy ``training`` package as a fallback.

It sits at the END of ``sys.meta_path`` (appended by :mod:`legacy_shims._install`), so it is
asked only after every normal finder found nothing: a real ``training`` package, a real
``packages.core.training`` or a real module of the same name always wins. Before it answers it
also asks the finders that were appended after it, so a finder installed later (another editable
install, an import hook) still wins too.

It answers for exactly these names and nothing else:

* ``training`` and ``packages.core.training``: shim packages (``__all__ = []``, like the legacy
  ``__init__``);
* ``training.<m>`` and ``packages.core.training.<m>`` for the 22 legacy modules ``<m>`` of
  :data:`pfdtrain.legacy_map.LEGACY_MODULES`: shim modules whose names resolve lazily through
  the mapping table. The parent may be a shim or a real package that lacks the child (a user
  repository whose ``packages/core/__init__.py`` does ``from . import training`` after the
  legacy folder was removed, or an unrelated ``training`` package that shadows the shim);
* ``packages`` and ``packages.core``, only so that ``packages.core.training`` can be reached
  when they do not exist at all.

``training.<anything else>`` is not served: the normal ``ModuleNotFoundError`` appears. With the
environment variable ``PFDTRAIN_DISABLE_SHIMS=1`` the finder answers nothing (checked on every
lookup; modules already imported stay imported).

This module is imported at interpreter start-up, so it imports nothing beyond ``os`` and ``sys``
(both already loaded); the mapping table and the module objects load on the first legacy import.
"""

import os
import sys

TYPE_CHECKING = False  # typing stays unimported at interpreter start-up; type checkers read the block
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import CodeType, ModuleType

ENV_DISABLE = "PFDTRAIN_DISABLE_SHIMS"
ORIGIN = "pfdtrain legacy shim"

#: Shim packages, by full name.
PACKAGES = frozenset({"training", "packages", "packages.core", "packages.core.training"})
#: Parents whose legacy children are served.
LEGACY_PARENTS = frozenset({"training", "packages.core.training"})

_legacy_modules = None


def shims_disabled() -> bool:
    """True when ``PFDTRAIN_DISABLE_SHIMS`` is set to anything but ``''``/``0``/``false``/``no``."""
    return os.environ.get(ENV_DISABLE, "").strip().lower() not in ("", "0", "false", "no")


def legacy_modules() -> frozenset[str]:
    """The 22 legacy module names (from the mapping table, loaded on first use)."""
    global _legacy_modules
    if _legacy_modules is None:
        from pfdtrain.legacy_map import LEGACY_MODULES

        _legacy_modules = frozenset(LEGACY_MODULES)
    return _legacy_modules


def role(fullname: str) -> str | None:
    """``"package"``, ``"module"`` or None (not ours) for a full module name."""
    if fullname in PACKAGES:
        return "package"
    parent, _, child = fullname.rpartition(".")
    if parent in LEGACY_PARENTS and child in legacy_modules():
        return "module"
    return None


class LegacyLoader:
    """Creates shim module objects; their contents resolve lazily (see :mod:`legacy_shims._modules`)."""

    @staticmethod
    def create_module(spec: "ModuleSpec") -> "ModuleType":
        from legacy_shims import _modules

        return _modules.create(spec.name)

    @staticmethod
    def exec_module(module: "ModuleType") -> None:
        # Nothing to run: names resolve on attribute access, through the mapping table.
        return None

    @staticmethod
    def is_package(fullname: str) -> bool:
        return fullname in PACKAGES

    @staticmethod
    def get_code(fullname: str) -> "CodeType | None":
        """What ``python -m training.<module>`` (or ``runpy``) runs: the legacy module's
        ``if __name__ == "__main__":`` block as its compat adapter reproduces it
        (``_legacy_main``), after the adapter's import; nothing more where legacy had no block."""
        if role(fullname) != "module":
            return None
        short = fullname.rpartition(".")[2]
        source = (
            "import importlib\n"
            f"_adapter = importlib.import_module('pfdtrain.compat.{short}')\n"
            "getattr(_adapter, '_legacy_main', lambda: None)()\n"
        )
        return compile(source, f"<pfdtrain legacy shim for {fullname}>", "exec")


LOADER = LegacyLoader()


class LegacyFinder:
    """Fallback finder for ``training.*`` / ``packages.core.training.*`` (see the module docstring)."""

    _pfdtrain_legacy_finder = True  # lets _install recognise an instance across reloads

    def find_spec(self, fullname: str, path: "Sequence[str] | None" = None,
                  target: "ModuleType | None" = None) -> "ModuleSpec | None":
        # Cheap rejection first: this finder is asked about every import that nothing else found.
        if not fullname.startswith(("training", "packages")):
            return None
        if shims_disabled():
            return None
        kind = role(fullname)
        if kind is None:
            return None
        if self._found_by_later_finder(fullname, path, target):
            return None
        from importlib.machinery import ModuleSpec

        # a duck-typed loader: importlib.abc stays unimported at interpreter start-up
        return ModuleSpec(fullname, LOADER, origin=ORIGIN, is_package=kind == "package")  # type: ignore[arg-type]

    def _found_by_later_finder(self, fullname: str, path: "Sequence[str] | None",
                               target: "ModuleType | None") -> bool:
        """Whether a finder placed after this one on ``sys.meta_path`` can serve ``fullname``."""
        meta_path = sys.meta_path
        index = next((i for i, finder in enumerate(meta_path) if finder is self), None)
        if index is None:
            return False
        for finder in meta_path[index + 1:]:
            if getattr(finder, "_pfdtrain_legacy_finder", False):
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is not None and find_spec(fullname, path, target) is not None:
                return True
        return False

    def invalidate_caches(self) -> None:
        return None

    def __repr__(self) -> str:
        return "<pfdtrain legacy_shims.LegacyFinder (fallback for training.*, packages.core.training.*)>"
