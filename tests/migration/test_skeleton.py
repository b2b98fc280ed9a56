"""The static pickle reader: plain data comes back as itself, everything else as a name, and
nothing in the file is ever imported or called."""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from pfdtrain.migration.skeleton import TENSOR, Opaque, _interpret, read_skeleton, with_placeholder_tensors

PLAIN = {"epoch": 3, "lr": 1e-3, "name": "cnn", "raw": b"\x00\x01", "flags": [True, False, None],
         "nested": {"a": (1, 2, 3), "b": [[1], [2, 3]], "c": {"deep": -7}}, 10**30: "big", "empty": ((), [], {})}


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_plain_data_round_trips_in_every_protocol(protocol):
    obj, names = _interpret(io.BytesIO(pickle.dumps(PLAIN, protocol=protocol)))
    assert obj == PLAIN and set(names) <= {"_codecs.encode", "builtins.bytes"}  # how old protocols spell bytes


def test_shared_references_and_ordered_dicts():
    shared = [1, 2]
    obj, _ = _interpret(io.BytesIO(pickle.dumps({"x": shared, "y": shared, "o": OrderedDict(a=1)}, protocol=2)))
    assert obj == {"x": [1, 2], "y": [1, 2], "o": {"a": 1}}


def test_tensors_become_placeholders_and_objects_become_names(tmp_path: Path):
    path = tmp_path / "c.pt"
    torch.save({"model_state_dict": {"w": torch.ones(2)}, "path": Path("/x"), "dtype": torch.float16}, path)
    skeleton = read_skeleton(path)
    assert skeleton.serialization == "torch_zip" and skeleton.error is None
    assert skeleton.obj["model_state_dict"] == {"w": TENSOR}
    assert isinstance(skeleton.obj["path"], Opaque) and skeleton.obj["path"].name == "pathlib.PosixPath"
    real = with_placeholder_tensors(skeleton.obj, torch.empty(0))
    assert isinstance(real["model_state_dict"]["w"], torch.Tensor) and real["dtype"] == "torch.float16"


class Boom:
    def __reduce__(self):
        return (Path.touch, (Path("pwned"),))


def test_a_reduce_payload_is_named_never_run(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.pth").write_bytes(pickle.dumps({"epoch": 1, "x": Boom()}))
    skeleton = read_skeleton(tmp_path / "evil.pth")
    assert skeleton.serialization == "pickle" and skeleton.obj["x"].name == "pathlib.Path.touch"
    assert "pathlib.Path.touch" in skeleton.globals
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(("data", "kind"), [(b"", "empty"), (b"hello world\n", "text"), (b"\x80\x04\x95", "pickle"),
                                        (b"PK\x03\x04broken", "torch_zip"), (b"\x13\x37\x00\xff" * 4, "unknown")])
def test_unreadable_files_say_why(tmp_path: Path, data, kind):
    (tmp_path / "f.pth").write_bytes(data)
    skeleton = read_skeleton(tmp_path / "f.pth")
    assert skeleton.serialization == kind and skeleton.error
