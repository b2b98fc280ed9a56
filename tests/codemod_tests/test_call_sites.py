"""The deprecated ``training.optimizers.create_optimizer(model_params, optimizer_name, ...)``.

By default it stays a call of its compat adapter, which warns like the legacy function (a
repository's own test asserts that warning). With ``--replace-deprecated`` (or ``--to-core``) the
call becomes the new factory with every argument by keyword in its order (legacy-api.md 5.1):
checked as text and by running the code before and after."""

from __future__ import annotations

import warnings

import pytest
import torch

from codemods import rewrite_source


@pytest.mark.parametrize(("call", "compat", "core"), [
    ("create_optimizer(params)",
     "create_optimizer(optimizer_type='adam', model_params=params)",
     "create_optimizer(name='adam', params=params)"),
    ("create_optimizer(params, 'sgd', 0.1)",
     "create_optimizer(optimizer_type='sgd', model_params=params, lr=0.1)",
     "create_optimizer(name='sgd', params=params, lr=0.1)"),
    ("create_optimizer(params, optimizer_name='adamw', weight_decay=0.0, lr=3e-4)",
     "create_optimizer(optimizer_type='adamw', model_params=params, lr=3e-4, weight_decay=0.0)",
     "create_optimizer(name='adamw', params=params, lr=3e-4, weight_decay=0.0)"),
    ("create_optimizer(params, 'sgd', momentum=0.5, nesterov=False)",
     "create_optimizer(optimizer_type='sgd', model_params=params, momentum=0.5, nesterov=False)",
     "create_optimizer(name='sgd', params=params, momentum=0.5, nesterov=False)"),
    ("create_optimizer(optimizer_name = 'rmsprop', model_params = params)",
     "create_optimizer(optimizer_type = 'rmsprop', model_params = params)",
     "create_optimizer(name = 'rmsprop', params = params)"),
])
def test_deprecated_create_optimizer_call_is_rewritten_by_keyword_only_when_asked(call, compat, core, rewrite):
    before = f"from training.optimizers import create_optimizer\nopt = {call}\n"
    assert rewrite(before) == f"from pfdtrain.compat.optimizers import create_optimizer\nopt = {call}\n"
    assert rewrite(before, replace_deprecated=True) == (
        f"from pfdtrain.compat.cnn_optimizer import create_optimizer\nopt = {compat}\n")
    assert rewrite(before, to_core=True) == f"from pfdtrain.optim import create_optimizer\nopt = {core}\n"


def test_by_default_the_deprecated_function_keeps_its_adapter_and_the_finding_says_how_to_opt_in(findings):
    before = "from training.optimizers import create_optimizer\nopt = create_optimizer(p, 'sgd')\n"
    (found,) = findings(before)
    assert found.target == "pfdtrain.compat.optimizers.create_optimizer" and found.behaviour_change == ""
    assert "warns like the legacy one" in found.message and "--replace-deprecated" in found.message


def test_an_opted_in_call_rewrite_is_reported_as_a_behaviour_change(findings):
    before = "from training.optimizers import create_optimizer\nopt = create_optimizer(p, 'sgd')\n"
    changed = [f for f in findings(before, replace_deprecated=True) if f.behaviour_change]
    assert [(f.kind, f.line) for f in changed] == [("call", 2)]
    assert "DeprecationWarning is no longer issued" in changed[0].behaviour_change


def test_multi_line_call_keeps_its_layout_and_each_comment_stays_with_its_argument(rewrite):
    before = ("from training.optimizers import create_optimizer as make\n"
              "opt = make(\n    model.parameters(),  # all weights\n    'sgd',  # plain SGD\n    lr=0.1,\n)\n")
    assert rewrite(before, replace_deprecated=True) == (
        "from pfdtrain.compat.cnn_optimizer import create_optimizer as make\n"
        "opt = make(\n    optimizer_type='sgd',  # plain SGD\n    model_params=model.parameters(),  # all weights\n"
        "    lr=0.1,\n)\n")


def test_new_factory_call_moves_to_core_with_renamed_keywords(rewrite):
    before = "from training.cnn_optimizer import create_optimizer\nopt = create_optimizer('adamw', params, lr=1e-3)\n"
    assert rewrite(before) == ("from pfdtrain.compat.cnn_optimizer import create_optimizer\n"
                               "opt = create_optimizer('adamw', params, lr=1e-3)\n")
    assert rewrite(before, to_core=True) == (
        "from pfdtrain.optim import create_optimizer\nopt = create_optimizer(name='adamw', params=params, lr=1e-3)\n")


@pytest.mark.parametrize("use", [
    "factory = create_optimizer",  # not a call
    "opt = create_optimizer(*args)",  # arguments not known
    "opt = create_optimizer(params, **config)",  # config may hold optimizer_name
    "opt = create_optimizer(p, 'sgd', 0.1, 0.0, 'extra')",  # more positionals than parameters
    "opt = create_optimizer(p, 'sgd', optimizer_name='adam')",  # given twice: a TypeError today
])
def test_uses_the_codemod_cannot_rewrite_keep_the_legacy_order_adapter(use, rewrite, findings):
    before = f"from training.optimizers import create_optimizer\nopt = create_optimizer(p, 'sgd')\n{use}\n"
    after = rewrite(before, replace_deprecated=True)
    assert after == before.replace("from training.optimizers", "from pfdtrain.compat.optimizers")
    (f,) = [f for f in findings(before, replace_deprecated=True) if f.kind == "import"]
    assert f.target == "pfdtrain.compat.optimizers.create_optimizer" and "legacy argument order" in f.message


def test_function_defined_before_the_module_level_import_is_rewritten_too(rewrite):
    before = ("def build(p):\n    return create_optimizer(p, 'sgd')\n\n"
              "from training.optimizers import create_optimizer\n")
    assert "create_optimizer(optimizer_type='sgd', model_params=p)" in rewrite(before, replace_deprecated=True)


def test_call_through_a_module_alias_stays_on_the_legacy_order_adapter_and_is_reported(rewrite, findings):
    before = "import training.optimizers as O\nopt = O.create_optimizer(p, 'sgd')\n"
    assert rewrite(before) == "import pfdtrain.compat.optimizers as O\nopt = O.create_optimizer(p, 'sgd')\n"
    (f,) = [f for f in findings(before) if f.kind == "attribute"]
    assert "keeps the legacy argument order" in f.message


def _run(source: str, params) -> torch.optim.Optimizer:
    namespace = {"params": params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        exec(compile(source, "<rewritten>", "exec"), namespace)
    return namespace["opt"]


def _state(opt: torch.optim.Optimizer) -> tuple:
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    return type(opt).__name__, groups


@pytest.mark.parametrize("call", [
    "create_optimizer(params)", "create_optimizer(params, 'sgd', 0.1)",
    "create_optimizer(params, 'AdamW', weight_decay=0.0)",
    "create_optimizer(params, optimizer_name='rmsprop', lr=0.01)",
    "create_optimizer(params, 'sgd', momentum=0.5, nesterov=False)",
])
def test_rewritten_calls_build_the_same_optimizer(call):
    legacy = f"from pfdtrain.compat.optimizers import create_optimizer\nopt = {call}\n"  # what the shims serve
    source = f"from training.optimizers import create_optimizer\nopt = {call}\n"
    default = rewrite_source(source.encode()).new_source.decode()
    compat = rewrite_source(source.encode(), replace_deprecated=True).new_source.decode()
    core = rewrite_source(source.encode(), to_core=True).new_source.decode()
    params = [torch.nn.Parameter(torch.zeros(2))]
    expected = _state(_run(legacy, params))
    assert _state(_run(default, params)) == expected
    assert _state(_run(compat, params)) == expected
    assert _state(_run(core, params)) == expected


def _deprecations(source: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(source, "<rewritten>", "exec"), {"params": [torch.nn.Parameter(torch.zeros(1))]})
    return [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]


def test_the_default_rewrite_keeps_the_deprecation_warning_and_the_opt_in_drops_only_it():
    source = "from training.optimizers import create_optimizer\nopt = create_optimizer(params, 'sgd')\n"
    legacy = _deprecations(source.replace("from training.", "from pfdtrain.compat."))
    default = _deprecations(rewrite_source(source.encode()).new_source.decode())
    assert len(legacy) == 1 and "deprecated" in legacy[0] and default == legacy
    assert _deprecations(rewrite_source(source.encode(), replace_deprecated=True).new_source.decode()) == []


def test_an_inserted_default_uses_the_quotes_of_the_call(rewrite):
    before = 'from training.optimizers import create_optimizer\nopt = create_optimizer(p, lr=0.1, tag="x")\n'
    assert rewrite(before, replace_deprecated=True) == ('from pfdtrain.compat.cnn_optimizer import create_optimizer\n'
                               'opt = create_optimizer(optimizer_type="adam", model_params=p, lr=0.1, tag="x")\n')
