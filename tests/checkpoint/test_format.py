import platform
import re
from collections import OrderedDict
from datetime import datetime, timedelta, timezone

import pytest
import torch

import pfdtrain._version
from pfdtrain.checkpoint import (
    FORMAT_NAME,
    FORMAT_VERSION,
    CheckpointFormatError,
    CheckpointVersionError,
    check_format,
    is_v2,
    new_checkpoint,
)

LAYOUT = [
    "format", "format_version", "created", "versions",
    "model", "training", "optimizer", "scheduler", "scaler", "ema",
    "callbacks", "config", "random_state", "extra",
]


def test_constants():
    assert FORMAT_NAME == "pfdtrain.checkpoint"
    assert FORMAT_VERSION == "2.0"
    assert isinstance(FORMAT_VERSION, str)


def test_new_checkpoint_has_every_key_in_layout_order_with_defaults():
    ckpt = new_checkpoint()
    assert list(ckpt) == LAYOUT
    assert ckpt["format"] == "pfdtrain.checkpoint"
    assert ckpt["format_version"] == "2.0"
    assert ckpt["model"] == {"state_dict": {}, "architecture": None, "config": {}}
    assert ckpt["training"] == {"epoch": 0, "global_step": 0, "best_metric": None, "history": {}}
    for name in ("optimizer", "scheduler", "scaler", "ema", "random_state"):
        assert ckpt[name] is None
    for name in ("callbacks", "config", "extra"):
        assert ckpt[name] == {}


def test_versions_are_plain_strings_of_the_running_stack():
    versions = new_checkpoint()["versions"]
    assert versions == {
        "pfdtrain": pfdtrain._version.__version__,
        "torch": str(torch.__version__),
        "python": platform.python_version(),
    }
    assert all(type(v) is str for v in versions.values())  # TorchVersion would break weights_only


def test_created_is_iso8601_utc_now():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    created = new_checkpoint()["created"]
    after = datetime.now(timezone.utc)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)
    stamp = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before <= stamp <= after + timedelta(seconds=1)


def test_sections_are_used_and_model_training_merged_with_defaults():
    state = OrderedDict(w=torch.ones(2))
    ckpt = new_checkpoint(
        model={"state_dict": state, "architecture": "pkg.mod.Net"},
        training={"epoch": 3, "lr_history": [0.1, 0.05]},
        optimizer={"state": {}, "param_groups": []},
        extra={"note": "hi"},
        created="2020-01-02T03:04:05Z",
    )
    assert ckpt["model"] == {"state_dict": state, "architecture": "pkg.mod.Net", "config": {}}
    assert ckpt["model"]["state_dict"] is state
    assert ckpt["training"] == {
        "epoch": 3, "global_step": 0, "best_metric": None, "history": {}, "lr_history": [0.1, 0.05],
    }
    assert ckpt["optimizer"] == {"state": {}, "param_groups": []}
    assert ckpt["extra"] == {"note": "hi"}
    assert ckpt["created"] == "2020-01-02T03:04:05Z"
    assert list(ckpt) == LAYOUT


def test_new_checkpoint_does_not_modify_given_sections():
    training = {"epoch": 1}
    new_checkpoint(training=training)
    assert training == {"epoch": 1}


def test_defaults_are_fresh_objects():
    a, b = new_checkpoint(), new_checkpoint()
    a["training"]["history"]["loss"] = [1.0]
    assert b["training"]["history"] == {}


def test_unknown_section_is_a_type_error_listing_valid_names():
    with pytest.raises(TypeError) as info:
        new_checkpoint(optimiser={})
    message = str(info.value)
    assert "'optimiser'" in message
    for name in ("model", "training", "optimizer", "scheduler", "scaler", "ema", "callbacks", "config", "random_state",
                 "extra"):
        assert name in message


@pytest.mark.parametrize(("section", "value"), [("model", None), ("extra", [1]), ("optimizer", 3)])
def test_wrong_section_type_is_a_type_error(section, value):
    with pytest.raises(TypeError, match=section):
        new_checkpoint(**{section: value})


def test_foreign_format_name_is_rejected():
    with pytest.raises(ValueError, match=r"format must be 'pfdtrain\.checkpoint', got 'other'"):
        new_checkpoint(format="other")


def test_is_v2():
    assert is_v2(new_checkpoint())
    assert is_v2({"format": "pfdtrain.checkpoint", "format_version": "2.7"})
    assert not is_v2({"format": "pfdtrain.checkpoint", "format_version": "3.0"})
    assert not is_v2({"format": "pfdtrain.checkpoint", "format_version": "x.y"})
    assert not is_v2({"format": "pfdtrain.checkpoint"})
    assert not is_v2({"epoch": 1, "model_state_dict": {}})
    assert not is_v2(OrderedDict(w=torch.ones(1)))
    assert not is_v2([1, 2])


def test_check_format_accepts_current_and_newer_minor():
    check_format(new_checkpoint())
    check_format({**new_checkpoint(), "format_version": "2.1", "new_section": {}})


def test_newer_major_names_both_versions_and_says_to_upgrade():
    with pytest.raises(CheckpointVersionError) as info:
        check_format({**new_checkpoint(), "format_version": "3.0"}, source="run/last.pth")
    message = str(info.value)
    assert "3.0" in message and "2.0" in message
    assert "pip install -U pfdtrain" in message
    assert "run/last.pth" in message
    assert (info.value.found, info.value.supported) == ("3.0", "2.0")


def test_older_major_points_to_migration():
    with pytest.raises(CheckpointVersionError, match="migrate-checkpoint"):
        check_format({**new_checkpoint(), "format_version": "1.0"})


@pytest.mark.parametrize("version", ["two", 2.0, None])
def test_unreadable_version_is_a_format_error(version):
    with pytest.raises(CheckpointFormatError, match="format_version"):
        check_format({**new_checkpoint(), "format_version": version})


@pytest.mark.parametrize(
    ("obj", "looks_like"),
    [
        (OrderedDict([("conv.weight", torch.ones(1)), ("fc.bias", torch.ones(1))]), "bare model state_dict"),
        ({"epoch": 3, "model_state_dict": {}, "optimizer_state_dict": {}}, "legacy v1 checkpoint"),
        ({"format": "other.format"}, "'other.format'"),
        ([1, 2, 3], "list"),
        ({}, "empty dict"),
    ],
)
def test_non_v2_objects_are_format_errors_pointing_to_migrate(obj, looks_like):
    with pytest.raises(CheckpointFormatError) as info:
        check_format(obj, source="old.pth")
    message = str(info.value)
    assert "old.pth is not a pfdtrain v2 checkpoint" in message
    assert looks_like in message
    assert "migrate-checkpoint old.pth" in message


def test_wrong_section_type_in_a_v2_object_is_a_format_error():
    with pytest.raises(CheckpointFormatError, match="'training'"):
        check_format({**new_checkpoint(), "training": [1, 2]})
