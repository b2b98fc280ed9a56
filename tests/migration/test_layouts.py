"""Layout detection: each zoo file gets the manifest's layout, weights location and prefix."""

from collections import OrderedDict

import pytest
import torch
from torch import nn

from pfdtrain.checkpoint import new_checkpoint
from pfdtrain.migration.layouts import ROOT, detect, wrapper_prefixes
from pfdtrain.migration.safe_load import safe_load
from zoo_manifest import ENTRIES, LOADABLE, ZOO

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.mark.parametrize("name", LOADABLE)
def test_each_zoo_file_is_detected_as_its_manifest_layout(name):
    entry = ENTRIES[name]
    loaded = safe_load(ZOO / name)
    found = detect(loaded.obj, loaded.info.serialization)
    assert found.layout == entry["layout"]
    assert found.weights_key == entry["weights_location"]
    assert "".join(found.prefixes) == entry["weights_key_prefix"]
    assert found.evidence  # says why
    if entry["serialization"] == "torch_legacy":
        assert any("non-zip" in line for line in found.evidence)


def _state(prefix=""):
    torch.manual_seed(0)
    model = nn.Sequential(OrderedDict(conv=nn.Conv1d(1, 2, 3), fc=nn.Linear(2, 2)))
    return OrderedDict((prefix + k, v) for k, v in model.state_dict().items())


def test_compiled_and_nested_wrapper_prefixes():
    compiled = torch.compile(nn.Linear(2, 2))  # a real compiled module names its keys _orig_mod.*
    assert wrapper_prefixes(compiled.state_dict()) == ("_orig_mod.",)
    assert wrapper_prefixes(_state("module._orig_mod.")) == ("module.", "_orig_mod.")
    assert wrapper_prefixes(_state("_orig_mod.module.")) == ("_orig_mod.", "module.")
    assert wrapper_prefixes(_state("modules.")) == ()
    found = detect({"epoch": 0, "model_state_dict": _state("_orig_mod."), "val_acc": 50.0})
    assert found.layout == "cnn_callbacks.ModelCheckpointCallback" and found.prefixes == ("_orig_mod.",)
    assert any("torch.compile" in line for line in found.evidence)


def test_v2_bare_and_unknown_objects():
    assert detect(new_checkpoint()).layout == "v2"
    assert detect(_state()).layout == "bare_state_dict" and detect(_state()).weights_key == ROOT
    assert detect({"history": [1, 2], "notes": "no weights"}) is None
    assert detect(torch.ones(3)) is None and detect([]) is None and detect({}) is None


def test_unrecognised_writer_with_model_state_dict_is_generic():
    found = detect({"epoch": 4, "best_accuracy": 0.9, "model_state_dict": _state(), "learning_rate": 0.1})
    assert found.layout == "generic" and found.weights_key == "model_state_dict"
