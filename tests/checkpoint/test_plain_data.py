import argparse
import math
import pathlib
import pickle
from collections import OrderedDict, namedtuple

import numpy as np
import pytest
import torch

from pfd_testing import weights_only_roundtrip
from pfdtrain.checkpoint import CheckpointFormatError, validate_plain_data

PLAIN_VALUES = {
    "dict": {"a": 1, 2: "b", None: [1.5, True]},
    "ordered_dict_with_metadata": torch.nn.BatchNorm1d(3).state_dict(),
    "nested": {"x": ({"y": [torch.zeros(2, dtype=torch.int64)]},), "z": None},
    "floats": [math.nan, math.inf, -0.0, 1e300],
    "big_int": 2**100,
    "parameter": torch.nn.Parameter(torch.ones(3)),
    "optimizer_state": None,  # filled below
}
_model = torch.nn.Linear(2, 2)
_opt = torch.optim.Adam(_model.parameters())
_model(torch.ones(1, 2)).sum().backward()
_opt.step()
PLAIN_VALUES["optimizer_state"] = _opt.state_dict()


@pytest.mark.parametrize("name", sorted(PLAIN_VALUES))
def test_plain_values_pass_and_really_load_with_weights_only(name):
    value = PLAIN_VALUES[name]
    validate_plain_data({"extra": {"v": value}})
    weights_only_roundtrip({"extra": {"v": value}})  # the validator must not be stricter than needed


Point = namedtuple("Point", "x y")

BAD_VALUES = {
    "namespace": (argparse.Namespace(lr=0.1), "argparse.Namespace", "vars(args)"),
    "path": (pathlib.Path("/data/run1"), "pathlib.", "str(path)"),
    "module": (torch.nn.Linear(2, 2), "torch.nn.modules.linear.Linear", "state_dict()"),
    "lambda": (lambda x: x, "function", "rebuild"),
    "numpy_float": (np.float64(1.5), "numpy.float64", ".item()"),
    "numpy_array": (np.zeros(3), "numpy.ndarray", "torch.from_numpy"),
    "torch_version_str_subclass": (torch.__version__, "TorchVersion", "str(value)"),
    "namedtuple": (Point(1, 2), "Point", "_asdict()"),
    "set": ({1, 2}, "set", "list"),
    "dtype": (torch.float32, "torch.dtype", "str(value)"),
}


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_non_plain_values_are_rejected_with_key_path_and_hint(name):
    value, type_text, hint = BAD_VALUES[name]
    checkpoint = {"model": {"state_dict": {}}, "extra": {"args": [0, {"bad": value}]}}
    with pytest.raises(CheckpointFormatError) as info:
        validate_plain_data(checkpoint)
    message = str(info.value)
    assert message.startswith("checkpoint['extra']['args'][1]['bad']: ")
    assert type_text in message
    assert "is not plain data (allowed: dict, list, tuple, str, int, float, bool, None, torch.Tensor)" in message
    assert hint in message


@pytest.mark.parametrize("name", ["namespace", "path", "module", "numpy_float", "torch_version_str_subclass",
                                  "namedtuple"])
def test_rejected_values_really_fail_weights_only_loading(name):
    # Pins the validator to reality: each rejected value breaks torch.load(weights_only=True).
    value = BAD_VALUES[name][0]
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        weights_only_roundtrip({"v": value})


def test_exact_message_for_a_namespace_in_extra():
    with pytest.raises(CheckpointFormatError) as info:
        validate_plain_data({"extra": {"args": argparse.Namespace(lr=0.1)}})
    assert str(info.value).startswith(
        "checkpoint['extra']['args']: argparse.Namespace is not plain data (allowed: "
    )


def test_bad_dict_key_is_reported():
    with pytest.raises(CheckpointFormatError, match=r"checkpoint\['extra'\]: key .*Path"):
        validate_plain_data({"extra": {pathlib.Path("x"): 1}})


def test_reference_cycle_is_rejected_but_shared_objects_are_fine():
    shared = [1, 2]
    validate_plain_data({"a": shared, "b": shared})
    loop: list = []
    loop.append(loop)
    with pytest.raises(CheckpointFormatError, match=r"checkpoint\['a'\]\[0\]: contains itself"):
        validate_plain_data({"a": loop})


def test_attributes_on_ordered_dicts_are_checked():
    state = OrderedDict(w=torch.zeros(1))
    state._metadata = {"": {"version": 1, "bad": pathlib.Path("x")}}
    with pytest.raises(CheckpointFormatError, match=r"checkpoint\['model'\]._metadata\[''\]\['bad'\]"):
        validate_plain_data({"model": state})
