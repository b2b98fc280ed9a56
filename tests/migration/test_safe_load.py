"""Safe loading: every zoo file read or refused as the manifest says, nothing ever executed."""

import argparse
import datetime
import pathlib
import pickle
import warnings

import numpy as np
import pytest
import torch

from pfdtrain.checkpoint import CorruptCheckpointError, UnsafeCheckpointError
from pfdtrain.migration import safe_load as safe_load_module
from pfdtrain.migration.safe_load import (
    OldTorchWarning,
    UnsafeLoadWarning,
    registered_safe_globals,
    safe_load,
    warn_if_torch_predates_fix,
)
from zoo_manifest import CORRUPT, ENTRIES, LOADABLE, MUST_REFUSE, PWNED, ZOO, copy_zoo, pwned_markers

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.parametrize("name", LOADABLE)
def test_every_loadable_zoo_file_loads_with_its_top_level_keys(name):
    loaded = safe_load(ZOO / name)
    assert list(loaded.obj) == ENTRIES[name]["top_level_keys"]
    expected = {"torch_zip": "torch_zip", "torch_legacy": "torch_legacy"}[ENTRIES[name]["serialization"]]
    assert loaded.info.serialization == expected


@pytest.mark.parametrize("name", MUST_REFUSE)
def test_unsafe_files_are_refused_before_unpickling_with_the_globals_named(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the payloads would create their marker in the working directory
    path = copy_zoo(tmp_path / "in", [name]) / name

    def must_not_unpickle(*args, **kwargs):
        raise AssertionError("torch.load was called on a file that must be refused")

    monkeypatch.setattr(torch, "load", must_not_unpickle)
    with pytest.raises(UnsafeCheckpointError) as raised:
        safe_load(path)
    refused_global = ENTRIES[name]["weights_only_load"]["unsupported_global"]
    assert refused_global in raised.value.unsafe_globals
    assert refused_global in str(raised.value) and "Nothing in it was run" in str(raised.value)
    assert raised.value.kind == "unsafe"
    assert pwned_markers() == [] and not (tmp_path / PWNED).exists()


def test_weights_only_still_refuses_when_the_static_scan_is_unavailable(tmp_path, monkeypatch):
    """The opcode scan is a first line; torch's weights-only unpickler is the safety net."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(safe_load_module, "_torch_allowed_names", lambda: None)
    name = "malicious_checkpoint_open_payload.pth"
    path = copy_zoo(tmp_path / "in", [name]) / name
    with pytest.raises(UnsafeCheckpointError, match=r"io\.open"):
        safe_load(path)
    assert pwned_markers() == [] and not (tmp_path / PWNED).exists()


@pytest.mark.parametrize(
    ("name", "kind"),
    [("truncated_cnn_trainer_best_model.pth", "truncated"), ("empty.pth", "empty"),
     ("not_a_checkpoint.pth", "lfs-pointer")],
)
def test_corrupt_zoo_files_are_named_by_kind(name, kind):
    assert name in CORRUPT
    with pytest.raises(CorruptCheckpointError) as raised:
        safe_load(ZOO / name)
    assert raised.value.kind == kind and name in str(raised.value)


def test_text_random_bytes_and_a_cut_legacy_file_are_not_checkpoints(tmp_path):
    (tmp_path / "notes.pth").write_text("epoch 3, val_acc 91.2\n")
    (tmp_path / "noise.pth").write_bytes(bytes(range(7, 200)))
    legacy = (ZOO / "legacy_nonzip_cnn_trainer_best_model.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(legacy[: len(legacy) // 2])
    kinds = {}
    for name in ("notes.pth", "noise.pth", "cut.pth"):
        with pytest.raises(CorruptCheckpointError) as raised:
            safe_load(tmp_path / name)
        kinds[name] = raised.value.kind
    assert kinds == {"notes.pth": "not-a-checkpoint", "noise.pth": "not-a-checkpoint", "cut.pth": "truncated"}


@pytest.mark.parametrize(("name", "flavour"), [
    ("train_cnn_script_posixpath_args.pth", "PosixPath"), ("train_cnn_script_windowspath_args.pth", "WindowsPath"),
])
def test_pickled_paths_become_their_text_without_instantiating_os_paths(name, flavour):
    loaded = safe_load(ZOO / name)
    args = ENTRIES[name]["content"]["args"]
    for key in ("data_path", "checkpoint_dir"):
        assert args[key]["class"] == flavour
        assert type(loaded.obj["args"][key]) is str and loaded.obj["args"][key] == args[key]["path"]
    assert {"path": ["args", "data_path"], "from": f"pathlib.{flavour}"} in loaded.conversions


def test_namespace_numpy_scalars_and_dtypes_become_plain_data(tmp_path):
    path = tmp_path / "script.pth"
    args = argparse.Namespace(lr=np.float64(0.125), epochs=np.int64(7), amp=np.bool_(True),
                              out=pathlib.PurePosixPath("/runs/a"), dtype=np.dtype("float32"))
    torch.save({"model_state_dict": {"w": torch.ones(2)}, "args": args}, path)
    with pytest.raises(pickle.UnpicklingError):  # what plain weights-only loading does with it
        torch.load(path, weights_only=True)
    loaded = safe_load(path)
    assert loaded.obj["args"] == {"lr": 0.125, "epochs": 7, "amp": True, "out": "/runs/a", "dtype": "float32"}
    assert [type(v) for v in loaded.obj["args"].values()] == [float, int, bool, str, str]
    assert {c["from"] for c in loaded.conversions} == {"argparse.Namespace", "pathlib.PurePosixPath", "numpy.dtype"}


def test_allow_global_admits_one_named_global(tmp_path):
    path = tmp_path / "dated.pth"
    torch.save({"model_state_dict": {"w": torch.ones(1)}, "day": datetime.date(2024, 5, 1)}, path)
    with pytest.raises(UnsafeCheckpointError) as raised:
        safe_load(path)
    assert raised.value.unsafe_globals == ("datetime.date",)
    assert safe_load(path, allow_globals=["datetime.date"]).obj["day"] == datetime.date(2024, 5, 1)


def test_trust_unsafe_loads_a_pickled_module_with_a_loud_warning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UnsafeLoadWarning, match="Any code inside the file runs"):
        loaded = safe_load(ZOO / "whole_module_pickle.pth", trust_unsafe=True)
    assert isinstance(loaded.obj, torch.nn.Sequential) and loaded.trusted_unsafe
    with pytest.warns(UnsafeLoadWarning):  # the aliases still apply: WindowsPath cannot be built on Linux
        paths = safe_load(ZOO / "train_cnn_script_windowspath_args.pth", trust_unsafe=True).obj["args"]
    args = ENTRIES["train_cnn_script_windowspath_args.pth"]["content"]["args"]
    assert paths["checkpoint_dir"] == args["checkpoint_dir"]["path"]


def test_old_torch_warning_is_given_once(monkeypatch):
    monkeypatch.setattr(safe_load_module, "_warned_old_torch", False)
    with pytest.warns(OldTorchWarning, match="GHSA-63cw-57p8-fm3p"):
        assert warn_if_torch_predates_fix("2.9.1+cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_if_torch_predates_fix("2.9.1")
    monkeypatch.setattr(safe_load_module, "_warned_old_torch", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_if_torch_predates_fix("2.10.0")


def test_safe_globals_registration_is_reference_counted():
    from torch._weights_only_unpickler import _get_user_allowed_globals

    entry = (dict, "pfdtrain_test.Marker")
    with registered_safe_globals([entry]):
        with registered_safe_globals([entry]):
            assert "pfdtrain_test.Marker" in _get_user_allowed_globals()
        assert "pfdtrain_test.Marker" in _get_user_allowed_globals()  # a second thread still loading
    assert "pfdtrain_test.Marker" not in _get_user_allowed_globals()


def test_numpy_arrays_load_once_their_listed_globals_are_admitted(tmp_path):
    path = tmp_path / "stats.pth"
    torch.save({"model_state_dict": {"w": torch.ones(1)}, "mean": np.arange(4, dtype=np.float32)}, path)
    with pytest.raises(UnsafeCheckpointError) as raised:
        safe_load(path)
    names = list(raised.value.unsafe_globals)
    assert any(name.endswith("._reconstruct") for name in names) and "numpy.ndarray" in names
    loaded = safe_load(path, allow_globals=names)  # exactly what the refusal listed, nothing more
    assert torch.equal(loaded.obj["mean"], torch.arange(4, dtype=torch.float32))
    assert {"path": ["mean"], "from": "numpy.ndarray"} in loaded.conversions
