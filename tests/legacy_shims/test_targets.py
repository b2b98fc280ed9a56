"""Every target of the mapping table imports: the compat object (what the shims serve and the
codemods write) and the core object (what the warnings recommend). No skips: a missing target is
a broken promise to users, whichever branch still has to add it."""

from __future__ import annotations

import importlib

from pfdtrain.legacy_map import TABLE


def _missing(dotted_names: set[str]) -> list[str]:
    missing = []
    for dotted in sorted(dotted_names):
        module_name, _, attr = dotted.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            missing.append(f"{dotted}  (import {module_name}: {type(exc).__name__}: {exc})")
            continue
        if not hasattr(module, attr):
            missing.append(f"{dotted}  ({module_name} has no {attr!r})")
    return missing


def test_every_compat_target_imports():
    missing = _missing({entry.compat for entry in TABLE})
    assert not missing, f"{len(missing)} compat targets missing:\n" + "\n".join(missing)


def test_every_new_target_imports():
    missing = _missing({entry.new for entry in TABLE if entry.new is not None})
    assert not missing, f"{len(missing)} core targets missing:\n" + "\n".join(missing)


def test_every_module_global_compat_target_imports():
    from pfdtrain.legacy_map import MODULE_GLOBALS

    missing = _missing({g.compat for entries in MODULE_GLOBALS.values() for g in entries})
    assert not missing, f"{len(missing)} module-global targets missing:\n" + "\n".join(missing)
