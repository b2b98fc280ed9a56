import argparse
import copy
import json
import math
import os
import pickle
import re
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from torch import nn

from pfdtrain.checkpoint import (
    CheckpointFormatError,
    CheckpointVersionError,
    capture_random_state,
    load,
    new_checkpoint,
    save,
)

GOLDEN_V1 = Path(__file__).resolve().parents[2] / "golden" / "training" / "checkpoints_v1"


# ---------------------------------------------------------------- helpers


def assert_same(a, b, path="ckpt"):
    """Deep equality: tensors by value/dtype/shape, floats nan-aware, container types exact."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), path
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert torch.equal(a.cpu(), b.cpu()), path
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for key in a:
            assert_same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), path
    else:
        assert type(a) is type(b) and a == b, path


def full_checkpoint():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(1, 4, 3), nn.BatchNorm1d(4), nn.Flatten(), nn.Linear(8, 3))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    model(torch.randn(2, 1, 4)).sum().backward()
    optimizer.step()
    scheduler.step()
    ema = torch.optim.swa_utils.AveragedModel(model)
    return new_checkpoint(
        model={"state_dict": model.state_dict(), "architecture": "torch.nn.Sequential", "config": {"channels": 4}},
        training={"epoch": 2, "global_step": 10, "best_metric": 0.25,
                  "history": {"loss": [1.0, 0.5], "val_acc": [None, 0.75]}, "patience_left": 3},
        optimizer=optimizer.state_dict(),
        scheduler=scheduler.state_dict(),
        scaler=scaler.state_dict(),
        ema=ema.state_dict(),
        callbacks={"EarlyStopping": {"wait": 1, "best": 0.5}},
        config={"max_epochs": 10, "precision": "32", "devices": [0, 1], "grad_clip": None},
        random_state=capture_random_state(),
        extra={"tuple": (1, "a", (2.5,)), "nan": math.nan, "inf": -math.inf, "ids": torch.arange(5)},
    )


@pytest.fixture
def saved(tmp_path):
    ckpt = full_checkpoint()
    path = save(ckpt, tmp_path / "run" / "last.pth")
    return ckpt, path


# ---------------------------------------------------------------- save / load roundtrip


def test_full_checkpoint_roundtrips_and_opens_with_plain_weights_only_load(saved):
    ckpt, path = saved
    assert path.name == "last.pth" and path.is_file()
    raw = torch.load(path, weights_only=True)  # no allow-list, no pfdtrain
    assert_same(ckpt, raw)
    assert_same(ckpt, load(path))
    assert isinstance(raw["model"]["state_dict"], OrderedDict)  # state_dict type survives


def test_load_with_mmap(saved):
    ckpt, path = saved
    assert_same(ckpt, load(path, mmap=True))


def test_map_location_is_passed_to_torch(saved):
    _, path = saved
    loaded = load(path, map_location="meta")
    assert loaded["model"]["state_dict"]["0.weight"].device.type == "meta"
    assert loaded["extra"]["ids"].device.type == "meta"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_map_location_errors_are_not_disguised_as_corrupt_files(saved):
    _, path = saved
    with pytest.raises(RuntimeError, match="CUDA") as info:
        load(path, map_location="cuda")
    assert not isinstance(info.value, CheckpointFormatError)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_load_to_cuda(saved):
    ckpt, path = saved
    loaded = load(path, map_location="cuda")
    assert loaded["model"]["state_dict"]["0.weight"].is_cuda
    assert_same(ckpt, loaded)


def test_save_does_not_mutate_the_callers_dict(tmp_path):
    ckpt = {"model": {"state_dict": OrderedDict(w=torch.ones(3))}, "training": {"epoch": 1}}
    before = copy.deepcopy(ckpt)
    tensor = ckpt["model"]["state_dict"]["w"]
    save(ckpt, tmp_path / "a.pth")
    assert_same(before, ckpt)
    assert ckpt["model"]["state_dict"]["w"] is tensor


def test_save_fills_the_header_and_sections(tmp_path):
    path = save({"extra": {"k": 1}}, tmp_path / "a.pth")
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "pfdtrain.checkpoint"
    assert raw["format_version"] == "2.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", raw["created"])
    assert set(raw["versions"]) == {"pfdtrain", "torch", "python"}
    assert raw["training"] == {"epoch": 0, "global_step": 0, "best_metric": None, "history": {}}
    assert raw["extra"] == {"k": 1}


def test_save_keeps_given_header_values(tmp_path):
    ckpt = new_checkpoint(created="2001-02-03T04:05:06Z")
    raw = torch.load(save(ckpt, tmp_path / "a.pth"), weights_only=True)
    assert raw["created"] == "2001-02-03T04:05:06Z"


def test_save_refuses_non_plain_data_before_touching_the_file(tmp_path):
    path = tmp_path / "a.pth"
    path.write_bytes(b"previous")
    ckpt = new_checkpoint(extra={"args": argparse.Namespace(lr=0.1)})
    with pytest.raises(CheckpointFormatError) as info:
        save(ckpt, path)
    message = str(info.value)
    assert message.startswith("checkpoint['extra']['args']: argparse.Namespace is not plain data (allowed: ")
    assert "vars(args)" in message
    assert path.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pth"]


def test_save_refuses_a_foreign_format_name(tmp_path):
    with pytest.raises(CheckpointFormatError, match="format"):
        save({"format": "something.else"}, tmp_path / "a.pth")
    assert not (tmp_path / "a.pth").exists()


def test_save_rejects_non_mappings(tmp_path):
    with pytest.raises(TypeError, match="new_checkpoint"):
        save([1, 2], tmp_path / "a.pth")


# ---------------------------------------------------------------- versions and foreign layouts


def test_newer_major_version_file_is_refused_with_both_versions(tmp_path):
    path = tmp_path / "future.pth"
    torch.save({**new_checkpoint(), "format_version": "3.0"}, path)
    with pytest.raises(CheckpointVersionError) as info:
        load(path)
    message = str(info.value)
    assert "3.0" in message and "2.0" in message and "pip install -U pfdtrain" in message
    assert str(path) in message


def test_newer_minor_version_file_loads_and_keeps_unknown_keys(tmp_path):
    path = tmp_path / "minor.pth"
    torch.save({**new_checkpoint(), "format_version": "2.1", "future_section": {"x": 1}}, path)
    loaded = load(path)
    assert loaded["format_version"] == "2.1"
    assert loaded["future_section"] == {"x": 1}


def test_loaded_file_missing_sections_gets_defaults(tmp_path):
    path = tmp_path / "partial.pth"
    torch.save({"format": "pfdtrain.checkpoint", "format_version": "2.0", "extra": {"a": 1}}, path)
    loaded = load(path)
    assert list(loaded)[:4] == ["format", "format_version", "created", "versions"]
    assert loaded["created"] is None and loaded["versions"] is None  # not invented on load
    assert loaded["optimizer"] is None
    assert loaded["model"] == {"state_dict": {}, "architecture": None, "config": {}}
    assert loaded["extra"] == {"a": 1}


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (OrderedDict([("conv.weight", torch.ones(2, 2)), ("fc.bias", torch.zeros(2))]), "bare model state_dict"),
        ({"epoch": 4, "model_state_dict": OrderedDict(w=torch.ones(1)), "optimizer_state_dict": {}}, "legacy v1"),
    ],
)
@pytest.mark.parametrize("zipped", [True, False])
def test_legacy_files_are_refused_with_migration_hint(tmp_path, content, looks_like, zipped):
    path = tmp_path / "old model.pth"
    torch.save(content, path, _use_new_zipfile_serialization=zipped)
    with pytest.raises(CheckpointFormatError) as info:
        load(path)
    message = str(info.value)
    assert "is not a pfdtrain v2 checkpoint" in message
    assert looks_like in message
    assert f"migrate-checkpoint '{path}'" in message  # quoted: the path has a space


def test_missing_file_is_file_not_found_naming_the_path(tmp_path):
    path = tmp_path / "nope.pth"
    with pytest.raises(FileNotFoundError) as info:
        load(path)
    assert str(path) in str(info.value)


def test_directory_is_a_format_error(tmp_path):
    with pytest.raises(CheckpointFormatError, match="directory"):
        load(tmp_path)


# ---------------------------------------------------------------- unsafe files: refused, nothing runs


class Payload:
    """Unpickling this (unsafely) would create the marker file via __setstate__."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __setstate__(self, state):
        Path(state["marker"]).touch()


class SystemCall:
    """Pickles as a call to os.system (pickling does not run it)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _raw_os_system_pickle(command: str) -> bytes:
    # Protocol 0 by hand: GLOBAL 'os system', MARK, STRING command, TUPLE, REDUCE, STOP.
    return b"cos\nsystem\n(" + f"S{command!r}\n".encode() + b"tR."


def _refused(path, marker, mmap=False):
    with pytest.raises(CheckpointFormatError) as info:
        load(path, mmap=mmap)
    assert not marker.exists(), "the payload ran"
    message = str(info.value)
    assert "not plain data" in message and "nothing in it was executed" in message
    return info.value


@pytest.mark.parametrize("mmap", [False, True])
def test_object_of_a_test_class_is_refused_without_running_it(tmp_path, mmap):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    torch.save({**new_checkpoint(), "extra": {"obj": Payload(marker)}}, path)
    error = _refused(path, marker, mmap)
    name = f"{Payload.__module__}.{Payload.__qualname__}"
    assert name in str(error)
    assert name in error.unsafe_globals


def test_os_system_in_a_torch_zip_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    torch.save({"extra": SystemCall(f"touch {marker}")}, path)
    error = _refused(path, marker)
    assert f"{os.system.__module__}.system" in str(error)  # posix.system / nt.system


def test_raw_pickle_calling_os_system_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pkl"
    path.write_bytes(_raw_os_system_pickle(f"touch {marker}"))
    error = _refused(path, marker)
    assert "os.system" in str(error)
    assert error.unsafe_globals == ("os.system",)


def test_protocol_2_raw_pickle_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"epoch": 1, "x": SystemCall(f"touch {marker}")}, protocol=2))
    assert f"{os.system.__module__}.system" in str(_refused(path, marker))


def test_unsafe_object_in_a_legacy_non_zip_file_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    torch.save({"extra": SystemCall(f"touch {marker}")}, path, _use_new_zipfile_serialization=False)
    error = _refused(path, marker)
    assert error.unsafe_globals == (f"{os.system.__module__}.system",)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol 4:UserWarning")
def test_protocol_4_pickle_with_stack_global_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps([SystemCall(f"touch {marker}")], protocol=4))
    assert _refused(path, marker).unsafe_globals == (f"{os.system.__module__}.system",)


def test_refusal_message_quotes_paths_for_the_shell(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "my evil.pth"
    torch.save({"x": Payload(marker)}, path)
    assert f"migrate-checkpoint '{path}'" in str(_refused(path, marker))


# ---------------------------------------------------------------- map_location errors stay theirs


def test_bad_device_name_fails_before_reading(saved):
    _, path = saved
    with pytest.raises(RuntimeError) as info:
        load(path, map_location="gpu0")
    assert not isinstance(info.value, CheckpointFormatError)


def test_errors_of_a_map_location_function_propagate_unchanged(saved):
    _, path = saved

    class Boom(Exception):
        pass

    def place(storage, location):
        raise Boom("from my map_location")

    with pytest.raises(Boom, match="from my map_location"):
        load(path, map_location=place)


def test_map_location_function_is_used(saved):
    ckpt, path = saved
    seen = []

    def place(storage, location):
        seen.append(location)
        return storage

    assert_same(ckpt, load(path, map_location=place))
    assert seen and set(seen) == {"cpu"}


# ---------------------------------------------------------------- corrupt files


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pth"
    path.touch()
    with pytest.raises(CheckpointFormatError, match="empty") as info:
        load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("mmap", [False, True])
def test_truncated_checkpoint(saved, tmp_path, mmap):
    _, good = saved
    data = good.read_bytes()
    path = tmp_path / "truncated.pth"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointFormatError) as info:
        load(path, mmap=mmap)
    message = str(info.value)
    assert str(path) in message and "truncated" in message
    assert "Traceback" not in message


def test_truncated_legacy_pickle_format(tmp_path):
    full = tmp_path / "full.pth"
    torch.save(new_checkpoint(model={"state_dict": {"w": torch.ones(100)}}), full, _use_new_zipfile_serialization=False)
    data = full.read_bytes()
    path = tmp_path / "truncated.pth"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointFormatError, match=re.escape(str(path))):
        load(path)


@pytest.mark.parametrize("mmap", [False, True])
def test_text_file(tmp_path, mmap):
    path = tmp_path / "notes.pth"
    path.write_text("these are my notes, not weights\n")
    with pytest.raises(CheckpointFormatError) as info:
        load(path, mmap=mmap)
    message = str(info.value)
    assert str(path) in message and "text file" in message and "these are my notes" in message
    assert "weights_only=False" not in message  # no advice to turn the safety off


def test_git_lfs_pointer(tmp_path):
    path = tmp_path / "model.pth"
    path.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 6325\n")
    with pytest.raises(CheckpointFormatError, match="git lfs pull"):
        load(path)


def test_random_binary(tmp_path):
    path = tmp_path / "noise.pth"
    path.write_bytes(bytes(range(7, 256)) * 3)
    with pytest.raises(CheckpointFormatError, match="not a torch checkpoint"):
        load(path)


# ---------------------------------------------------------------- the golden v1 zoo


def _golden_entries():
    manifest = GOLDEN_V1 / "manifest.json"
    if not manifest.exists():
        return []
    entries = json.loads(manifest.read_text())["entries"]
    return [e for e in entries if (GOLDEN_V1 / e["file"]).exists()]


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's deprecation notes for the quantized file
@pytest.mark.parametrize("entry", _golden_entries(), ids=lambda e: e["file"])
def test_no_golden_v1_file_loads_and_none_runs_code(entry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the malicious payloads would create ./pfdtrain_pwned
    with pytest.raises(CheckpointFormatError) as info:
        load(GOLDEN_V1 / entry["file"])
    assert not (tmp_path / "pfdtrain_pwned").exists()
    message = str(info.value)
    if entry["status"] == "loadable":
        assert "migrate-checkpoint" in message
    unsafe = entry["weights_only_load"].get("unsupported_global")
    if unsafe:
        assert unsafe in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "ckpt.pt")
    with pytest.raises(CheckpointFormatError, match="is a named pipe"):
        load(tmp_path / "ckpt.pt")
