"""The call marks of the mapping table agree with the real signatures they describe."""

from __future__ import annotations

import importlib
import inspect

import pytest
import torch

from pfdtrain.legacy_map import TABLE, UNCHANGED


def _obj(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _params(obj) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(obj).parameters.values() if p.name != "self"]


MAPPED = [(e, kind, call) for e in TABLE for kind, call in (("compat", e.compat_call), ("core", e.core_call))
          if call is not None and not call.unchanged]
UNCHANGED_CORE = [e for e in TABLE if e.core_call is UNCHANGED]


@pytest.mark.parametrize(("entry", "kind", "call"), MAPPED, ids=lambda v: getattr(v, "legacy", str(v)))
def test_call_maps_bind_the_legacy_parameters_and_name_the_targets_keywords_in_order(entry, kind, call):
    legacy = _params(_obj(entry.compat))
    named = [p.name for p in legacy if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert list(call.params) == named
    target = _params(_obj(call.target or (entry.compat if kind == "compat" else entry.new)))
    target_names = [p.name for p in target]
    keywords = [keyword for _, keyword in call.keywords]
    assert keywords == target_names[: len(keywords)], "keywords follow the target's own order"
    assert {legacy_name for legacy_name, _ in call.keywords} == set(call.params)
    defaults = {p.name: p.default for p in legacy}
    for name, source in call.defaults:
        assert eval(source) == defaults[name]
        (keyword,) = [k for legacy_name, k in call.keywords if legacy_name == name]
        assert next(p for p in target if p.name == keyword).default is inspect.Parameter.empty


def _compatible(legacy, core) -> bool:
    legacy_params, core_params = _params(legacy), _params(core)
    if [p.name for p in legacy_params] != [p.name for p in core_params[: len(legacy_params)]]:
        return False
    return all(p.default is not inspect.Parameter.empty or p.kind is p.VAR_KEYWORD
               for p in core_params[len(legacy_params):])


@pytest.mark.parametrize("entry", UNCHANGED_CORE, ids=lambda e: e.legacy)
def test_names_marked_unchanged_accept_every_legacy_call(entry):
    assert entry.status == "adapted" and entry.new is not None
    legacy, core = _obj(entry.compat), _obj(entry.new)
    assert _compatible(legacy, core)
    if isinstance(legacy, type) and issubclass(legacy, torch.nn.Module):
        assert _compatible(legacy.forward, core.forward)


def test_same_status_implies_an_unchanged_call_and_removed_names_have_none():
    for entry in TABLE:
        if entry.status == "same":
            assert entry.core_call_map is UNCHANGED
        if entry.status == "removed":
            assert entry.core_call_map is None
