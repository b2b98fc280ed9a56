"""Decode golden values into Python objects and compare live results against their encoding.

The encoding is described in ``golden/numerics/README.md`` ("Value encoding", "Models",
"Optimizers in scheduler cases"). Comparisons raise ``AssertionError`` naming the path of the
first mismatch (``output[1].dtype``, ``post_state.m.training``...).
"""

from __future__ import annotations

import math
import numbers
import types
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

#: Scalar types an attribute may have to be recorded in ``expected.object.attrs``.
_SCALARS = (type(None), bool, int, float, str)

#: Hyper-parameter keys the legacy code itself sets; the other recorded keys are torch defaults
#: (README: they describe the environment, not legacy logic).
LEGACY_HPARAM_KEYS = frozenset({"lr", "weight_decay", "betas", "eps", "momentum", "nesterov", "alpha"})


# --------------------------------------------------------------------------------------------
# models and optimizers


def build_model(spec: dict) -> nn.Module:
    """``nn.Sequential(OrderedDict(name -> layer))`` built under ``torch.manual_seed(init_seed)``."""

    def layer(desc: dict) -> nn.Module:
        if desc["type"] == "Sequential":
            return nn.Sequential(OrderedDict((c["name"], layer(c)) for c in desc["children"]))
        cls = getattr(nn, desc["type"])
        return cls(*desc.get("args", []), **desc.get("kwargs", {}))

    torch.manual_seed(spec.get("init_seed", 0))
    model = nn.Sequential(OrderedDict((d["name"], layer(d)) for d in spec["layers"]))
    if spec.get("state_dict"):
        model.load_state_dict({k: decode(v, None) for k, v in spec["state_dict"].items()})
    frozen = set(spec.get("frozen", []))
    for name, p in model.named_parameters():
        if name in frozen:
            p.requires_grad_(False)
    return model


def build_optimizer(spec: dict) -> tuple[torch.optim.Optimizer, dict[int, str]]:
    """The scheduler-case optimizer: groups of fresh zero ``(2,)`` parameters named ``group<i>.param<j>``."""
    names: dict[int, str] = {}
    groups = []
    for i, g in enumerate(spec["param_groups"]):
        params = [nn.Parameter(torch.zeros(2)) for _ in range(g["num_params"])]
        for j, p in enumerate(params):
            names[id(p)] = f"group{i}.param{j}"
        groups.append({"params": params, **{k: v for k, v in g.items() if k != "num_params"}})
    cls = getattr(torch.optim, spec["class"])
    return cls(groups, **spec.get("defaults", {})), names


class CaseContext:
    """Models, the lazily built case optimizer and a parameter-name table for one case."""

    def __init__(self, case: dict, resolve: Callable[[str], Any]) -> None:
        self.case = case
        self.resolve = resolve
        self.models = {ref: build_model(spec) for ref, spec in (case.get("models") or {}).items()}
        self.param_names: dict[int, str] = {}
        for model in self.models.values():
            for name, p in model.named_parameters():
                self.param_names[id(p)] = name
        self._optimizer: torch.optim.Optimizer | None = None

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        if self._optimizer is None:
            self._optimizer, names = build_optimizer(self.case["optimizer"])
            self.param_names.update(names)
        return self._optimizer

    def decode(self, value: Any) -> Any:
        return decode(value, self)


# --------------------------------------------------------------------------------------------
# decoding


def _tensor(data: Any, dtype: str, shape: list[int]) -> torch.Tensor:
    return torch.tensor(data, dtype=getattr(torch, dtype)).reshape(shape)


def decode(value: Any, ctx: CaseContext | None) -> Any:
    """Turn an encoded JSON value (and the input-only ``$`` references) into a Python object."""
    if isinstance(value, list):
        return [decode(v, ctx) for v in value]
    if not isinstance(value, dict):
        return value
    if "tensor" in value:
        return _tensor(value["tensor"], value["dtype"], value["shape"])
    if "ndarray" in value:
        return np.array(value["ndarray"], dtype=value["dtype"]).reshape(value["shape"])
    if "numpy_scalar" in value:
        return np.dtype(value["dtype"]).type(value["numpy_scalar"])
    if "tuple" in value and len(value) == 1:
        return tuple(decode(v, ctx) for v in value["tuple"])
    if "dict_items" in value and len(value) == 1:
        return {decode(k, ctx): decode(v, ctx) for k, v in value["dict_items"]}
    if "float" in value and len(value) == 1:
        return float(value["float"])
    if ctx is not None and len(value) == 1:
        (key, ref), = value.items()
        if key == "$model":
            return ctx.models[ref]
        if key == "$parameters":
            return ctx.models[ref].parameters()
        if key == "$optimizer":
            return ctx.optimizer
        if key == "$scheduler":
            return ctx.resolve(ref["target"])(ctx.optimizer, **decode(ref.get("kwargs", {}), ctx))
        if key == "$call":
            return ctx.resolve(ref["target"])(**decode(ref.get("kwargs", {}), ctx))
    return {k: decode(v, ctx) for k, v in value.items()}


# --------------------------------------------------------------------------------------------
# comparison


class Tol:
    """``|actual - expected| <= atol + rtol * |expected|``."""

    def __init__(self, rtol: float = 0.0, atol: float = 0.0) -> None:
        self.rtol, self.atol = rtol, atol

    def close(self, actual: float, expected: float) -> bool:
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        if math.isinf(expected) or math.isinf(actual):
            return actual == expected
        return abs(actual - expected) <= self.atol + self.rtol * abs(expected)


EXACT = Tol(0.0, 0.0)


def type_name(obj: Any) -> str:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def public_simple_attrs(obj: Any) -> dict[str, Any]:
    """The object's own public attributes of simple type, as the recorder read them (``vars``).

    The recorder stored them sorted by name.
    """
    out = {}
    for k, v in vars(obj).items():
        if k.startswith("_"):
            continue
        plain_sequence = isinstance(v, (list, tuple)) and all(isinstance(x, _SCALARS) for x in v)
        if isinstance(v, (*_SCALARS, torch.Tensor)) or plain_sequence:
            out[k] = v
    return dict(sorted(out.items()))


def _fail(path: str, msg: str) -> None:
    raise AssertionError(f"{path or '<root>'}: {msg}")


def check(expected: Any, actual: Any, tol: Tol, path: str = "", *, full_hparams: bool = True,
          param_names: dict[int, str] | None = None) -> None:
    """Assert that ``actual`` matches the encoded ``expected`` value."""
    kw = {"full_hparams": full_hparams, "param_names": param_names}
    if isinstance(expected, dict):
        if "tensor" in expected:
            return _check_tensor(expected, actual, tol, path)
        if "ndarray" in expected:
            if not isinstance(actual, np.ndarray):
                _fail(path, f"expected numpy.ndarray, got {type_name(actual)}")
            if actual.dtype.name != expected["dtype"]:
                _fail(path, f"dtype {actual.dtype.name} != {expected['dtype']}")
            if list(actual.shape) != expected["shape"]:
                _fail(path, f"shape {list(actual.shape)} != {expected['shape']}")
            return _check_values(np.asarray(expected["ndarray"]).reshape(expected["shape"]),
                                 actual, tol, path, exact=actual.dtype.kind in "iub")
        if "numpy_scalar" in expected:
            if not isinstance(actual, np.generic) or actual.dtype.name != expected["dtype"]:
                _fail(path, f"expected numpy {expected['dtype']} scalar, got {type_name(actual)}")
            return check(expected["numpy_scalar"], actual.item(), tol, path)
        if "tuple" in expected and len(expected) == 1:
            if not isinstance(actual, tuple):
                _fail(path, f"expected tuple, got {type_name(actual)}")
            return _check_seq(expected["tuple"], actual, tol, path, kw)
        if "dict_items" in expected and len(expected) == 1:
            if not isinstance(actual, dict):
                _fail(path, f"expected dict, got {type_name(actual)}")
            keys = [k for k, _ in expected["dict_items"]]
            if list(actual.keys()) != keys:
                _fail(path, f"keys {list(actual.keys())} != {keys}")
            for k, v in expected["dict_items"]:
                if type(list(actual.keys())[keys.index(k)]) is not type(k):
                    _fail(f"{path}[{k!r}]", "key type differs")
                check(v, actual[k], tol, f"{path}[{k!r}]", **kw)
            return None
        if "float" in expected and len(expected) == 1:
            return check(float(expected["float"]), actual, tol, path)
        if "optimizer" in expected and len(expected) == 1:
            return _check_optimizer(expected["optimizer"], actual, path, **kw)
        if "param_group_list" in expected and len(expected) == 1:
            return _check_group_list(expected["param_group_list"], actual, path, **kw)
        if not isinstance(actual, dict):
            _fail(path, f"expected dict, got {type_name(actual)}")
        if list(actual.keys()) != list(expected.keys()):
            _fail(path, f"keys {list(actual.keys())} != {list(expected.keys())}")
        for k, v in expected.items():
            check(v, actual[k], tol, f"{path}.{k}", **kw)
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            _fail(path, f"expected list, got {type_name(actual)}")
        return _check_seq(expected, actual, tol, path, kw)
    if check_plain(expected, actual, tol, path):
        return None
    raise TypeError(f"{path}: cannot compare encoded value {expected!r}")


def check_plain(expected: Any, actual: Any, tol: Tol, path: str) -> bool:
    """Compare a plain JSON value (None, bool, int, float, str); False if ``expected`` is not one."""
    if expected is None:
        if actual is not None:
            _fail(path, f"expected None, got {type_name(actual)} {actual!r}")
        return True
    if isinstance(expected, bool):
        if not isinstance(actual, (bool, np.bool_)) or bool(actual) != expected:
            _fail(path, f"expected {expected!r}, got {actual!r}")
        return True
    if isinstance(expected, int):
        if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, (int, np.integer)):
            _fail(path, f"expected int {expected!r}, got {type_name(actual)} {actual!r}")
        if int(actual) != expected:
            _fail(path, f"{actual!r} != {expected!r}")
        return True
    if isinstance(expected, float):
        if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, (float, np.floating)):
            _fail(path, f"expected float {expected!r}, got {type_name(actual)} {actual!r}")
        if not tol.close(float(actual), expected):
            _fail(path, f"{float(actual)!r} != {expected!r} (rtol={tol.rtol}, atol={tol.atol})")
        return True
    if isinstance(expected, str):
        if actual != expected:
            _fail(path, f"{actual!r} != {expected!r}")
        return True
    return False


def _check_seq(expected: list, actual: Any, tol: Tol, path: str, kw: dict) -> None:
    if len(actual) != len(expected):
        _fail(path, f"length {len(actual)} != {len(expected)}")
    for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
        check(e, a, tol, f"{path}[{i}]", **kw)


def _check_tensor(expected: dict, actual: Any, tol: Tol, path: str) -> None:
    if not isinstance(actual, torch.Tensor):
        _fail(path, f"expected torch.Tensor, got {type_name(actual)}")
    if str(actual.dtype) != f"torch.{expected['dtype']}":
        _fail(path, f"dtype {actual.dtype} != torch.{expected['dtype']}")
    if list(actual.shape) != expected["shape"]:
        _fail(path, f"shape {list(actual.shape)} != {expected['shape']}")
    act = actual.detach().cpu()
    exact = not (act.is_floating_point() or act.is_complex())
    want = np.asarray(expected["tensor"], dtype=np.float64 if not exact else None).reshape(expected["shape"])
    _check_values(want, act.numpy() if exact else act.double().numpy(), tol, path, exact=exact)


def _check_values(want: np.ndarray, got: np.ndarray, tol: Tol, path: str, *, exact: bool) -> None:
    if exact:
        bad = np.asarray(want != got)
    else:
        want = want.astype(np.float64)
        got = got.astype(np.float64)
        both_nan = np.isnan(want) & np.isnan(got)
        with np.errstate(invalid="ignore"):
            diff = np.abs(got - want)
            bad = ~((diff <= tol.atol + tol.rtol * np.abs(want)) | both_nan | (got == want))
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        _fail(path, f"{int(bad.sum())} of {bad.size} values differ; first at {list(idx)}: "
                    f"got {got[idx]!r}, expected {want[idx]!r} (rtol={tol.rtol}, atol={tol.atol})")


def _names(params: Any, path: str, param_names: dict[int, str] | None) -> list[str]:
    names = []
    for p in params:
        if param_names is None or id(p) not in param_names:
            _fail(path, "parameter not found among the case's models / optimizer")
        names.append(param_names[id(p)])
    return names


def _check_hparams(expected: dict, actual: dict, path: str, full: bool) -> None:
    # Keys other than LEGACY_HPARAM_KEYS are torch defaults (README: environment, not legacy
    # logic). On the recording torch they are compared too; on another torch only the legacy ones.
    keys = list(expected) if full else [k for k in expected if k in LEGACY_HPARAM_KEYS]
    if full and sorted(actual) != sorted(expected):
        _fail(path, f"hparam keys {sorted(actual)} != {sorted(expected)}")
    for k in keys:
        if k not in actual:
            _fail(f"{path}.{k}", "missing")
        check(expected[k], actual[k], EXACT, f"{path}.{k}")


def _check_optimizer(expected: dict, actual: Any, path: str, *, full_hparams: bool,
                     param_names: dict[int, str] | None) -> None:
    if not isinstance(actual, torch.optim.Optimizer):
        _fail(path, f"expected an optimizer, got {type_name(actual)}")
    if type(actual).__name__ != expected["class"]:
        _fail(path, f"class {type(actual).__name__} != {expected['class']}")
    groups = actual.param_groups
    if len(groups) != len(expected["param_groups"]):
        _fail(path, f"{len(groups)} param groups != {len(expected['param_groups'])}")
    for i, (eg, ag) in enumerate(zip(expected["param_groups"], groups, strict=True)):
        _check_hparams(eg["hparams"], {k: v for k, v in ag.items() if k != "params"},
                       f"{path}.param_groups[{i}].hparams", full_hparams)
        got = _names(ag["params"], f"{path}.param_groups[{i}]", param_names)
        if got != eg["param_names"]:
            _fail(f"{path}.param_groups[{i}].param_names", f"{got} != {eg['param_names']}")


def _check_group_list(expected: list, actual: Any, path: str, *, full_hparams: bool,
                      param_names: dict[int, str] | None) -> None:
    if not isinstance(actual, list):
        _fail(path, f"expected a list of param groups, got {type_name(actual)}")
    if len(actual) != len(expected):
        _fail(path, f"{len(actual)} groups != {len(expected)}")
    for i, (eg, ag) in enumerate(zip(expected, actual, strict=True)):
        container = ag["params"]
        kind = "generator" if isinstance(container, types.GeneratorType) else type(container).__name__
        if kind != eg["params_container"]:
            _fail(f"{path}[{i}].params_container", f"{kind} != {eg['params_container']}")
        _check_hparams(eg["hparams"], {k: v for k, v in ag.items() if k != "params"},
                       f"{path}[{i}].hparams", True)
        got = _names(list(container), f"{path}[{i}]", param_names)
        if got != eg["param_names"]:
            _fail(f"{path}[{i}].param_names", f"{got} != {eg['param_names']}")


def snapshot(value: Any) -> Any:
    """Deep copy of the observable state of an input, to detect in-place changes by the call.

    Tensors, arrays and model weights are copied; dicts and lists are recorded structurally
    (torch optimizers, for instance, add their default keys to the param-group dicts they get).
    Other objects (generators, optimizers) are opaque.
    """
    if isinstance(value, torch.Tensor):
        return ("tensor", value.detach().clone())
    if isinstance(value, np.ndarray):
        return ("array", value.copy())
    if isinstance(value, nn.Module):
        return ("module", {k: v.detach().clone() for k, v in value.state_dict().items()})
    if isinstance(value, dict):
        return ("dict", {k: snapshot(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return ("seq", [snapshot(v) for v in value])
    if isinstance(value, _SCALARS):
        return ("value", value)
    return ("opaque", None)


def same_as_snapshot(value: Any, snap: Any) -> bool:
    kind, saved = snap
    if kind == "tensor":
        return (isinstance(value, torch.Tensor) and value.shape == saved.shape
                and bool(torch.equal(value.detach().nan_to_num(), saved.nan_to_num())))
    if kind == "array":
        return isinstance(value, np.ndarray) and np.array_equal(value, saved, equal_nan=value.dtype.kind == "f")
    if kind == "module":
        state = value.state_dict()
        return all(torch.equal(state[k], v) for k, v in saved.items())
    if kind == "dict":
        return (isinstance(value, dict) and list(value) == list(saved)
                and all(same_as_snapshot(value[k], s) for k, s in saved.items()))
    if kind == "seq":
        return len(value) == len(saved) and all(same_as_snapshot(v, s) for v, s in zip(value, saved, strict=True))
    if kind == "value":
        return type(value) is type(saved) and value == saved
    return True


def is_number(x: Any) -> bool:
    return isinstance(x, numbers.Number)
