"""The shim module objects: built on the fly from :mod:`pfdtrain.legacy_map`.

* A legacy module (``training.cnn_losses``) resolves each public name on first access: it warns
  once per process and spelling with :class:`pfdtrain.errors.LegacyImportWarning` (before the
  target is imported, so no other warning category comes first), imports the legacy-behaviour
  object from ``pfdtrain.compat.<module>``, and caches it in the module dict. ``__all__`` and
  ``dir()`` list the legacy names. A name that never existed raises
  :class:`pfdtrain.errors.LegacyImportError` naming the replacement; any other unknown name is an
  ordinary ``AttributeError`` (``from ... import`` turns it into ``ImportError``).
* ``training`` / ``packages.core.training`` are packages with ``__all__ = []`` (the legacy
  ``__init__`` exported nothing); their legacy modules load as attributes on first access.
* ``training.X`` and ``packages.core.training.X`` are two module objects (as in legacy, where they
  were two imports of one file) that hand out the SAME objects: both resolve to
  ``pfdtrain.compat.X``, so ``isinstance`` works across spellings (it did not in legacy).
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import types
import warnings
from typing import Any, ClassVar, NoReturn

from legacy_shims import finder as _finder
from pfdtrain import legacy_map
from pfdtrain.errors import LegacyImportError, LegacyImportWarning

_warned: set[str] = set()
_lock = threading.Lock()
_OWN_FILES = frozenset({__file__, _finder.__file__})


def _no_attribute(module: types.ModuleType, name: str, hint: str = "") -> NoReturn:
    raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}{hint}", name=name, obj=module)


def _render(dotted: str) -> str:
    statement = legacy_map.import_statement(dotted)
    return f"`{statement}`" + (" (legacy, served by pfdtrain's shims)" if dotted.startswith("training.") else "")


def never_existed_error(spelled: str, module_name: str) -> LegacyImportError:
    canonical = legacy_map.canonical(spelled)
    if canonical in legacy_map.NEVER_EXISTED:
        why = "it appears only in documentation or milestone copies"
        replacements = legacy_map.NEVER_EXISTED[canonical]
    else:
        why = "the legacy training/__init__.py exported nothing; the name lives in one of its modules"
        replacements = legacy_map.closest(spelled)
    choices = " or ".join(_render(r) for r in replacements) if replacements else "nothing close in the table"
    return LegacyImportError(
        f"{spelled} never existed in the legacy training package ({why}). Closest real replacement: {choices}.",
        name=module_name,
    )


def _stacklevel() -> int:
    """``stacklevel`` for the warning issued by :func:`_warn_once`, pointing at the user's line.

    Counts this package's frames above ``_warn_once``; importlib's bootstrap frames are not
    counted because ``warnings`` skips them by itself."""
    level = 1  # _warn_once
    frame: types.FrameType | None = sys._getframe(2)  # _warn_once's caller
    while frame is not None:
        filename = frame.f_code.co_filename
        if not ("importlib" in filename and "_bootstrap" in filename):
            level += 1
            if filename not in _OWN_FILES:
                break
        frame = frame.f_back
    return level


def _warn_once(spelled: str, describe: str) -> None:
    with _lock:
        if spelled in _warned:
            return
        _warned.add(spelled)
    message = f"{spelled} is a legacy import served by pfdtrain's drop-in shims. {describe}."
    try:
        warnings.warn(message, LegacyImportWarning, stacklevel=_stacklevel())
    except BaseException:  # warnings turned into errors: fail again next time, like any warning would
        with _lock:
            _warned.discard(spelled)
        raise


def _import_target(dotted: str, spelled: str) -> Any:
    module_name, _, attr = dotted.rpartition(".")
    context = f"pfdtrain's legacy shim resolves {spelled} to {dotted}"
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        add_note = getattr(exc, "add_note", None)  # Python >= 3.11
        if add_note is not None:
            add_note(f"(while {context})")
        raise
    except AttributeError as exc:  # never let it look like "name not found"
        raise ImportError(f"importing {module_name} failed ({context}): {exc}", name=module_name) from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(
            f"{context}, but {module_name} has no attribute {attr!r}: the pfdtrain installation is "
            f"incomplete or out of date",
            name=module_name,
        ) from None


class LegacyModule(types.ModuleType):
    """``training.<module>`` / ``packages.core.training.<module>``: names resolve lazily.

    Every served name (the module's API from :data:`pfdtrain.legacy_map.TABLE` and its
    module-level imports, constants and logger from :data:`pfdtrain.legacy_map.MODULE_GLOBALS`)
    is read from, and written to, the compat module's global of that name on every access: the
    shim module holds no copy. So ``mock.patch("training.cnn_trainer.tqdm", ...)`` (either
    spelling) replaces the ``tqdm`` the adapter calls, and undoing the patch restores it.
    ``logger`` is the exception that keeps legacy's per-spelling name: each spelling reads a
    ``logging.Logger`` named after itself while the adapter's own logger is unpatched.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            _no_attribute(self, name)
        served = _served(self, name)
        spelled = f"{self.__name__}.{name}"
        if served is None:
            canonical = legacy_map.canonical(spelled)
            if canonical in legacy_map.NEVER_EXISTED:
                raise never_existed_error(spelled, self.__name__)
            near = legacy_map.closest(spelled)
            _no_attribute(self, name, f"; did you mean {near[0]}?" if near else "")
        if spelled not in _warned:
            if isinstance(served, legacy_map.LegacyName):
                _warn_once(spelled, describe=legacy_map.describe(served))
            elif served.warns:
                _warn_once(spelled, describe=legacy_map.describe_global(served))
        value = _import_target(served.compat, spelled)
        if name == "logger" and value is _pristine(served.compat, value):
            return logging.getLogger(self.__name__)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        served = _served(self, name) if not name.startswith("__") else None
        if served is None:
            super().__setattr__(name, value)
            return
        module_name, _, attr = served.compat.rpartition(".")
        target = importlib.import_module(module_name)
        current = getattr(target, attr)
        original = _remember(served.compat, current)
        if name == "logger" and value is logging.getLogger(self.__name__):
            value = original  # this spelling's own logger: the adapter's unpatched one
        setattr(target, attr, value)

    def __delattr__(self, name: str) -> None:
        served = _served(self, name) if not name.startswith("__") else None
        if served is None:
            super().__delattr__(name)
            return
        module_name, _, attr = served.compat.rpartition(".")
        with _lock:
            if served.compat not in _originals:
                return  # never replaced: nothing to undo
            original = _originals[served.compat]
        setattr(importlib.import_module(module_name), attr, original)

    def __dir__(self) -> list[str]:
        return sorted(set(self.__dict__) | set(_names(self)))


#: The compat globals as they were before a shim write first replaced them (what undoing a
#: ``mock.patch`` restores), by compat dotted name.
_originals: dict[str, Any] = {}


def _remember(compat: str, current: Any) -> Any:
    with _lock:
        return _originals.setdefault(compat, current)


def _pristine(compat: str, current: Any) -> Any:
    return _originals.get(compat, current)


def _served(module: types.ModuleType, name: str) -> legacy_map.LegacyName | legacy_map.ModuleGlobal | None:
    """The table entry a shim module serves for ``name`` (API first, then module globals)."""
    dotted = f"{module.__name__}.{name}"
    return legacy_map.by_legacy(dotted) or legacy_map.module_global(dotted)


def _names(module: types.ModuleType) -> list[str]:
    """Every name the shim serves: the API, then the module-level globals (legacy order)."""
    short = module.__name__.rpartition(".")[2]
    return [e.name for e in legacy_map.module_entries(short)] + [
        g.name for g in legacy_map.MODULE_GLOBALS.get(short, ())]


class LegacyPackage(types.ModuleType):
    """``training`` / ``packages.core.training``: exports nothing (``__all__ = []``, as legacy);
    its legacy modules import on attribute access."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            _no_attribute(self, name)
        if name in _finder.legacy_modules():
            return importlib.import_module(f"{self.__name__}.{name}")
        spelled = f"{self.__name__}.{name}"
        canonical = legacy_map.canonical(spelled)
        if canonical in legacy_map.NEVER_EXISTED or any(entry.name == name for entry in legacy_map.TABLE):
            # e.g. packages.core.training.Trainer: the legacy __init__ exported nothing
            raise never_existed_error(spelled, self.__name__)
        _no_attribute(self, name)

    def __dir__(self) -> list[str]:
        return sorted(set(self.__dict__) | _finder.legacy_modules())


class ParentPackage(types.ModuleType):
    """``packages`` / ``packages.core`` when they do not exist at all: a path to ``training``."""

    _CHILD: ClassVar[dict[str, str]] = {"packages": "core", "packages.core": "training"}

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_") and self._CHILD.get(self.__name__) == name:
            return importlib.import_module(f"{self.__name__}.{name}")
        _no_attribute(self, name)


def create(fullname: str) -> types.ModuleType:
    """A fresh shim module object for ``fullname`` (the finder only asks for names it serves)."""
    if fullname in ("training", "packages.core.training"):
        module: types.ModuleType = LegacyPackage(
            fullname,
            f"pfdtrain drop-in shim for the legacy package {fullname} (no real one was found). "
            f"Exports nothing, like the legacy __init__; its modules are shims too.",
        )
        vars(module)["__all__"] = []
        return module
    if fullname in ("packages", "packages.core"):
        return ParentPackage(fullname, f"pfdtrain placeholder for {fullname} (no real one was found).")
    entries = legacy_map.module_entries(fullname)
    short = fullname.rpartition(".")[2]
    module = LegacyModule(
        fullname,
        f"pfdtrain drop-in shim for the legacy module {fullname} (no real one was found). Its names "
        f"resolve to {legacy_map.COMPAT_PACKAGE}.{short} (legacy behaviour); each warns once with "
        f"pfdtrain.errors.LegacyImportWarning naming the new import.",
    )
    # legacy modules had no __all__: a star import took every public global, imports included
    module.__all__ = [entry.name for entry in entries] + [
        g.name for g in legacy_map.MODULE_GLOBALS.get(short, ()) if not g.name.startswith("_")]
    return module
