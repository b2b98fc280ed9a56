"""Every import form of issue 8, string references, relative imports and unmapped names."""

from __future__ import annotations

import pytest

from pfdtrain.legacy_map import TABLE


@pytest.mark.parametrize("prefix", ["training", "packages.core.training"])
def test_from_module_import_names_with_alias(prefix, rewrite):
    before = f"from {prefix}.cnn_losses import FocalLoss, SupConLoss as SCL\n"
    assert rewrite(before) == "from pfdtrain.compat.cnn_losses import FocalLoss, SupConLoss as SCL\n"


def test_parenthesised_multi_line_import_of_the_long_spelling_keeps_its_layout(rewrite):
    before = ("from packages.core.training.physics_loss_functions import (\n"
              "    FrequencyConsistencyLoss,\n    PhysicalConstraintLoss,  # total\n)\n")
    assert rewrite(before) == ("from pfdtrain.compat.physics_loss_functions import (\n"
                               "    FrequencyConsistencyLoss,\n    PhysicalConstraintLoss,  # total\n)\n")


@pytest.mark.parametrize("prefix", ["training", "packages.core.training"])
def test_from_package_import_module_keeps_alias_and_uses(prefix, rewrite):
    before = f"from {prefix} import cnn_losses, metrics as M\nloss = cnn_losses.FocalLoss()\nM.compute_accuracy(a, b)\n"
    assert rewrite(before) == ("from pfdtrain.compat import cnn_losses, metrics as M\n"
                               "loss = cnn_losses.FocalLoss()\nM.compute_accuracy(a, b)\n")


def test_import_module_as_alias_keeps_attribute_uses(rewrite):
    before = "import training.cnn_trainer as t\n\nt.CNNTrainer(model).fit(3)\n"
    assert rewrite(before) == "import pfdtrain.compat.cnn_trainer as t\n\nt.CNNTrainer(model).fit(3)\n"


def test_plain_import_rewrites_every_attribute_chain(rewrite):
    before = ("import os, training.cnn_losses\nimport packages.core.training.metrics\n\n"
              "def f(x):\n"
              "    return training.cnn_losses.FocalLoss(), packages.core.training.metrics.compute_accuracy(x, x)\n")
    assert rewrite(before) == (
        "import os, pfdtrain.compat.cnn_losses\nimport pfdtrain.compat.metrics\n\n"
        "def f(x):\n"
        "    return pfdtrain.compat.cnn_losses.FocalLoss(), pfdtrain.compat.metrics.compute_accuracy(x, x)\n")


def test_import_of_the_package_becomes_the_compat_modules_its_uses_need(rewrite):
    before = "import training\n\nloss = training.cnn_losses.FocalLoss()\nacc = training.metrics.compute_accuracy\n"
    assert rewrite(before) == ("import pfdtrain.compat.cnn_losses, pfdtrain.compat.metrics\n\n"
                               "loss = pfdtrain.compat.cnn_losses.FocalLoss()\n"
                               "acc = pfdtrain.compat.metrics.compute_accuracy\n")


def test_import_of_the_package_with_alias_imports_the_submodules_it_uses(rewrite):
    before = "import training as T\nT.cnn_losses.FocalLoss()\n"
    assert rewrite(before) == "import pfdtrain.compat as T, pfdtrain.compat.cnn_losses\nT.cnn_losses.FocalLoss()\n"


def test_names_moving_to_different_modules_are_split_one_line_per_module(rewrite):
    before = "from training.cnn_losses import FocalLoss, SupConLoss, LabelSmoothingCrossEntropy as LS\n"
    assert rewrite(before, to_core=True) == (
        "from pfdtrain.compat.cnn_losses import FocalLoss\n"
        "from pfdtrain.losses import SupConLoss, LabelSmoothingCrossEntropy as LS\n")


def test_split_inside_a_one_line_suite_stays_on_that_line(rewrite):
    before = ("try: from training.optimizers import create_optimizer, set_lr\nexcept ImportError: pass\n"
              "opt = create_optimizer(p, 'sgd')\n")
    assert rewrite(before, replace_deprecated=True) == (
        "try: from pfdtrain.compat.cnn_optimizer import create_optimizer; "
        "from pfdtrain.compat.optimizers import set_lr\n"
        "except ImportError: pass\nopt = create_optimizer(optimizer_type='sgd', model_params=p)\n")


@pytest.mark.parametrize("source", [
    'mock.patch("training.cnn_trainer.CNNTrainer.fit")',
    "mock.patch('packages.core.training.cnn_trainer.CNNTrainer.fit')",
    'monkeypatch.setattr("training.cnn_trainer.CNNTrainer.fit", fake)',
])
def test_string_references_with_a_dotted_legacy_path(source, rewrite):
    new = rewrite(f"{source}\n")
    assert "pfdtrain.compat.cnn_trainer.CNNTrainer.fit" in new and "training.cnn" not in new.replace("compat.cnn", "")


def test_string_quote_and_prefix_are_kept(rewrite):
    assert rewrite("x = r'training.losses.FocalLoss'\n") == "x = r'pfdtrain.compat.losses.FocalLoss'\n"


def test_module_strings_only_in_import_calls(rewrite, findings):
    before = ('import importlib, logging\nm = importlib.import_module("training.cnn_trainer")\n'
              'log = logging.getLogger("training.cnn_trainer")\n')
    assert rewrite(before) == ('import importlib, logging\nm = importlib.import_module("pfdtrain.compat.cnn_trainer")\n'
                               'log = logging.getLogger("training.cnn_trainer")\n')
    left = [f for f in findings(before) if f.status == "left"]
    assert [f.line for f in left] == [3] and "logger" in left[0].message


@pytest.mark.parametrize("text", ["training.log", "training.data.loader", "retraining.cnn_losses.FocalLoss",
                                  "see training.cnn_losses.FocalLoss", b"training.cnn_losses.FocalLoss"])
def test_other_strings_are_not_touched(text, rewrite):
    source = f"x = {text!r}\n"
    assert rewrite(source) == source


def test_relative_imports_inside_a_vendored_copy_are_left_and_reported(rewrite, findings):
    source = "from .trainer import Trainer\nfrom . import callbacks\nfrom .utils import helper\n"
    path = "/repo/milestones/milestone-1/training/mixed_precision.py"
    assert rewrite(source, path=path) == source
    found = findings(source, path=path)
    assert [(f.line, f.kind, f.legacy, f.status, f.vendored) for f in found] == [
        (1, "relative-import", "training.trainer.Trainer", "left", "repo/milestones/milestone-1/training"),
        (2, "relative-import", "training.callbacks", "left", "repo/milestones/milestone-1/training")]
    assert all("resolves to the vendored copy" in f.message for f in found)
    assert findings(source, path="/repo/src/myproject/mixed_precision.py") == []


@pytest.mark.parametrize(("source", "legacy", "hint"), [
    ("from training.cnn_losses import create_loss_function\n", "training.cnn_losses.create_loss_function",
     "pfdtrain.losses.create_loss"),
    ("from training import CNNTrainer\n", "training.CNNTrainer", "training.cnn_trainer.CNNTrainer"),
    ("from packages.core.training import Trainer\n", "training.Trainer", "pfdtrain.Trainer"),
    ("from training.lstm_trainer import LSTMTrainer\n", "training.lstm_trainer.LSTMTrainer", "not a module"),
    ("from training.cnn_trainer import torch\n", "training.cnn_trainer.torch", "not a public name"),
    ("import training.lstm_trainer\n", "training.lstm_trainer", "not a module"),
])
def test_unmapped_names_are_listed_never_guessed(source, legacy, hint, rewrite, findings):
    assert rewrite(source) == source
    (f,) = findings(source)
    assert f.status == "unmapped" and f.legacy == legacy and f.target is None and hint in f.message


def test_unmapped_use_through_a_rewritten_module_is_reported(findings):
    found = findings("import training.cnn_losses as L\nL.create_loss_function('x')\n")
    assert [(f.line, f.status, f.legacy) for f in found] == [
        (1, "rewritten", "training.cnn_losses"), (2, "unmapped", "training.cnn_losses.create_loss_function")]


def test_every_table_name_rewrites_to_its_compat_target_in_both_spellings(rewrite):
    for entry in TABLE:
        for spelled in entry.spellings():
            module, _, name = spelled.rpartition(".")
            new = rewrite(f"from {module} import {name}\nhandle = {name}\n")  # not a call: the compat object
            assert new == f"from pfdtrain.compat.{entry.module} import {name}\nhandle = {name}\n", entry


def test_unrelated_imports_and_words_are_untouched(rewrite):
    source = ("import training_utils\nfrom mylib.training import Trainer\nfrom x import training\n"
              "model.training = False  # training\n")
    assert rewrite(source) == source


def test_a_file_of_only_unrelated_text_is_not_parsed_by_libcst(monkeypatch):
    import libcst

    from codemods import rewrite_source

    def boom(*args, **kwargs):
        raise AssertionError("libcst parse for a file that does not change")

    monkeypatch.setattr(libcst, "parse_module", boom)
    assert rewrite_source(b"from training.cnn_losses import create_loss_function\n").new_source is None
