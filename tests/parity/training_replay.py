"""Replay of ``golden/training`` cases (README: "How to replay a case against a re-implementation").

Fixtures (models, loaders, ``golden.Probe``) are rebuilt from ``golden/training/README.md``; the
case steps run in a fresh temporary working directory; every step's stdout, ``training.*`` log
records, return value, exception and snapshots, then the case's records and the files left in
the directory are compared with ``expected`` (floats and tensors with the case tolerance,
strings/ints/bools/dtypes/shapes exactly, timings masked). Targets resolve through
``legacy_resolver.resolve``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import logging
import math
import os
import random
import re
import shutil
import zipfile
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import torch
from golden_codec import Tol, check_plain, type_name
from legacy_resolver import resolve
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

ROOT = Path(__file__).resolve().parents[2] / "golden" / "training"
GROUPS = ("cnn_trainer", "pinn_trainer", "trainer_callbacks", "cnn_callbacks", "other_trainers")

_ELAPSED = [
    (re.compile(r"\((\d+(\.\d+)?)s\)"), "(<elapsed>s)"),
    (re.compile(r"completed in \d+(\.\d+)?s"), "completed in <elapsed>s"),
]


def load_cases() -> list[dict]:
    cases = []
    for group in GROUPS:
        cases.extend(json.loads((ROOT / f"{group}.json").read_text())["cases"])
    return cases


# ----------------------------------------------------------------------------------- fixtures


class TinyCNN(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, kernel_size=5, padding=2)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.relu(self.conv(x)))))


class TinyPINN(TinyCNN):
    def __init__(self, num_classes: int = 11) -> None:
        super().__init__(num_classes)
        self.rpm_scale = nn.Parameter(torch.full((1,), 0.5))

    def forward(self, x, metadata=None):
        logits = super().forward(x)
        if metadata is not None and "rpm" in metadata:
            # Per-class ramp (golden revision 2026-12-05): a shift equal for every logit is invisible
            # to softmax, so without it rpm_scale had a zero gradient and CPU-dependent Adam steps.
            ramp = torch.arange(logits.shape[1], dtype=logits.dtype) / logits.shape[1]
            rpm = metadata["rpm"].to(logits.dtype).reshape(-1, 1) / 3600.0
            logits = logits + self.rpm_scale * rpm * ramp
        return logits


class TinySpecCNN(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.relu(self.conv(x)))))


_MODEL_CLASSES = {"TinyCNN": TinyCNN, "TinyPINN": TinyPINN, "TinySpecCNN": TinySpecCNN}


class MetaDataset(Dataset):
    def __init__(self, data: dict, meta_keys: list[str]) -> None:
        self.data, self.meta_keys = data, meta_keys

    def __len__(self) -> int:
        return len(self.data["labels"])

    def __getitem__(self, i):
        return self.data["signals"][i], self.data["labels"][i], {k: self.data[k][i] for k in self.meta_keys}


class Probe:
    """``golden.Probe``: an old-API observer recording attributes each epoch; changes nothing."""

    def __init__(self, attrs=(), lr=False) -> None:
        self.attrs, self.lr, self.records = list(attrs), lr, []

    def __call__(self, trainer, metrics) -> None:
        rec: dict[str, Any] = {"metric_keys": list(metrics)}
        for attr in self.attrs:
            value = _getattr_chain(trainer, attr)
            rec[attr] = value
            rec[f"{attr}__type"] = type_name(value)
        if self.lr:
            rec["lr"] = trainer.optimizer.param_groups[0]["lr"]
        self.records.append(rec)


class Fixtures:
    def __init__(self) -> None:
        spec = json.loads((ROOT / "fixtures" / "fixtures.json").read_text())
        self.models = spec["models"]
        self.data = {name: torch.load(ROOT / d["file"], weights_only=True) for name, d in spec["data"].items()}

    def model(self, name: str) -> nn.Module:
        spec = self.models[name]
        with torch.random.fork_rng():
            torch.manual_seed(spec["init_seed"])
            model = _MODEL_CLASSES[spec["class"]](spec["num_classes"])
        model.load_state_dict(torch.load(ROOT / spec["weights"], weights_only=True))
        return model

    def dataset(self, desc: dict) -> Dataset:
        data = self.data[desc["data"]]
        fmt = desc.get("format", "tensor")
        if fmt == "tensor":
            return TensorDataset(data["signals"], data["labels"])
        if fmt == "tuple":
            return TensorDataset(data["signals"], data["labels"], *[data[k] for k in desc["extra_keys"]])
        if fmt == "meta":
            return MetaDataset(data, desc["meta_keys"])
        raise ValueError(f"unknown dataset format {fmt!r}")

    def loader(self, desc: dict) -> DataLoader:
        return DataLoader(self.dataset(desc), batch_size=desc["batch_size"], shuffle=False, num_workers=0,
                          drop_last=False, generator=torch.Generator().manual_seed(desc.get("loader_seed") or 0))


def _getattr_chain(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def seed_all(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


# ----------------------------------------------------------------------------------- running


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[list[str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "training" or record.name.startswith("training."):
            self.records.append([record.levelname, record.name, record.getMessage()])


def mask(text: str) -> str:
    for pattern, repl in _ELAPSED:
        text = pattern.sub(repl, text)
    return text


class Replay:
    """Runs one case; ``outcomes``, ``records`` and ``files`` mirror ``expected``."""

    def __init__(self, case: dict, fixtures: Fixtures) -> None:
        self.case, self.fx = case, fixtures
        self.env: dict[str, Any] = {}

    # expressions
    def value(self, expr: Any) -> Any:
        if isinstance(expr, list):
            return [self.value(v) for v in expr]
        if not isinstance(expr, dict):
            return expr
        if len(expr) == 1:
            (key, arg), = expr.items()
            if key == "$model":
                return self.fx.model(arg)
            if key == "$loader":
                return self.fx.loader(arg)
            if key == "$dataset":
                return self.fx.dataset(arg)
            if key == "$data":
                return self.fx.data[arg]
            if key == "$params":
                return self.env[arg].parameters()
            if key == "$path":
                return Path(arg)
            if key == "tuple":
                return tuple(self.value(v) for v in arg)
            if key == "float":
                return float(arg)
        if "$data" in expr:
            data = self.fx.data[expr["$data"]]
            return data[expr["key"]] if expr.get("key") else data
        if "$ref" in expr:
            obj = self.env[expr["$ref"]]
            return _getattr_chain(obj, expr["attr"]) if expr.get("attr") else obj
        if "$new" in expr:
            target = expr["$new"]
            fn = {"golden.Probe": Probe}.get(target) or resolve(target)
            return fn(*self.value(expr.get("args", [])), **self.value(expr.get("kwargs", {})))
        if "tensor" in expr and "dtype" in expr:
            return torch.tensor(expr["tensor"], dtype=getattr(torch, expr["dtype"])).reshape(expr["shape"])
        return {k: self.value(v) for k, v in expr.items()}

    def target(self, dotted: str) -> Any:
        head, _, rest = dotted.partition(".")
        if head in self.env:
            return _getattr_chain(self.env[head], rest) if rest else self.env[head]
        return resolve(dotted)

    def run_step(self, step: dict) -> dict:
        out: dict[str, Any] = {}
        stdout = io.StringIO()
        handler = _Capture()
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            with contextlib.redirect_stdout(stdout):
                try:
                    result, has_result = self._execute(step)
                except BaseException as exc:
                    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                        raise
                    out["exception"] = {"type": type(exc).__name__, "module": type(exc).__module__,
                                        "message": str(exc)}
                    has_result = False
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
        text = mask(stdout.getvalue())
        if text:
            out["stdout"] = text
        if handler.records:
            out["log"] = [[lvl, name, mask(msg)] for lvl, name, msg in handler.records]
        if has_result:
            out["return"] = result
            out["return_type"] = type_name(result)
        if "snapshot" in step:
            out["snapshot"] = {name: {a: copy.deepcopy(_getattr_chain(self.env[name], a)) for a in attrs}
                               for name, attrs in step["snapshot"].items()}
        return out

    def _execute(self, step: dict) -> tuple[Any, bool]:
        if "let" in step:
            value = self.value(step["value"])
            self.env[step["let"]] = value
            return value, step.get("record_return", False)
        if "call" in step:
            fn = self.target(step["call"])
            result = fn(*self.value(step.get("args", [])), **self.value(step.get("kwargs", {})))
            if step.get("save_as"):
                self.env[step["save_as"]] = result
            return result, step.get("record_return", True)
        if "set" in step:
            head, _, attr = step["set"].rpartition(".")
            setattr(self.target(head), attr, self.value(step["value"]))
            return None, False
        if "helper" in step:
            args = step["args"]
            if step["helper"] == "seed":
                seed_all(args["seed"])
            elif step["helper"] == "set_grads":
                params = dict(self.env[args["model"]].named_parameters())
                for name, grad in args["grads"].items():
                    params[name].grad = None if grad is None else self.value(grad).clone()
            else:
                raise ValueError(f"unknown helper {step['helper']!r}")
            return None, False
        raise ValueError(f"unknown step {step!r}")

    # records
    def record(self, item: dict) -> tuple[str, Any]:
        what = item["what"]
        label = item.get("label") or (f"{what}:{item['call']}" if "call" in item and what in ("call", "call_keys")
                                      else f"{what}:{item['obj']}" if "obj" in item else what)
        obj = self.env.get(item.get("obj")) if "obj" in item else None
        if what == "attrs":
            return label, {n: _getattr_chain(obj, n) for n in item["names"]}
        if what in ("call", "call_keys"):
            outcome = self.run_step({"call": item["call"], "args": item.get("args", []),
                                     "kwargs": item.get("kwargs", {})})
            if what == "call_keys":
                return label, list(outcome["return"])
            outcome.pop("return_type", None)
            return label, outcome
        if what == "state_dict":
            sd = obj.state_dict()
            return label, {"keys": list(sd), "tensors": dict(sd)}
        if what == "optimizer":
            sd = obj.state_dict()
            return label, {"class": type_name(obj), "state": {str(k): v for k, v in sd["state"].items()},
                           "param_groups": sd["param_groups"]}
        if what == "grads":
            return label, {n: p.grad for n, p in obj.named_parameters()}
        if what == "requires_grad":
            return label, {n: p.requires_grad for n, p in obj.named_parameters()}
        if what == "training_flag":
            return label, obj.training
        if what == "probe":
            return label, obj.records
        if what == "exists":
            return label, {p: Path(p).exists() for p in item["paths"]}
        if what == "lens":
            return label, {n: len(_getattr_chain(obj, n)) for n in item["names"]}
        if what == "global_rng":
            state = torch.get_rng_state().contiguous().numpy().tobytes()
            return label, {"torch_rng_sha256": hashlib.sha256(state).hexdigest()}
        raise ValueError(f"unknown record {what!r}")


def _safe_record(replay: Replay, item: dict) -> tuple[str, Any]:
    """A record that cannot be taken (say, the trainer was never built) is reported, not raised."""
    try:
        return replay.record(item)
    except Exception as exc:
        label = item.get("label") or f"{item['what']}:{item.get('obj') or item.get('call')}"
        return label, RecordError(f"{type(exc).__name__}: {exc}")


class RecordError(str):
    pass


def describe_files(root: Path, setup: set[str]) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if path.suffix in (".pth", ".pt"):
            desc: dict[str, Any] = {"kind": "torch", "zip": zipfile.is_zipfile(path)}
            content = torch.load(path, weights_only=True)
            desc["top_level_keys"] = list(content) if isinstance(content, dict) else None
            desc["content"] = content
        elif path.suffix == ".json":
            text = path.read_text()
            try:
                desc = {"kind": "json", "content": json.loads(text), "text": text}
            except ValueError:
                desc = {"kind": "text", "text": text, "note": "not valid JSON"}
        else:
            desc = {"kind": "text", "text": path.read_text()}
        if rel in setup:
            desc["setup"] = True
        files[rel] = desc
    return files


def run_case(case: dict, fixtures: Fixtures, workdir: Path) -> tuple[list[dict], dict, dict]:
    """Run ``case`` in ``workdir``; returns (step outcomes, records, files)."""
    for dst, src in (case.get("setup_files") or {}).items():
        target = workdir / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / src, target)
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        seed_all(case.get("seed", 0))
        replay = Replay(case, fixtures)
        outcomes = [replay.run_step(step) for step in case["steps"]]
        records = dict(_safe_record(replay, item) for item in case.get("record", []))
        files = describe_files(workdir, set(case.get("setup_files") or {}))
    finally:
        os.chdir(previous)
    return outcomes, records, files


# ----------------------------------------------------------------------------------- comparing


class Mismatch(AssertionError):
    pass


def _fail(path: str, msg: str) -> None:
    raise Mismatch(f"{path or '<root>'}: {msg}")


class Comparer:
    def __init__(self, tol: Tol, tensors: dict[str, torch.Tensor]) -> None:
        self.tol, self.tensors = tol, tensors

    def check(self, expected: Any, actual: Any, path: str = "") -> None:
        if isinstance(expected, dict):
            return self._check_dict(expected, actual, path)
        if isinstance(expected, list):
            if not isinstance(actual, list):
                _fail(path, f"expected list, got {type_name(actual)}")
            self._seq(expected, actual, path)
            return None
        if check_plain(expected, actual, self.tol, path):
            return None
        raise TypeError(f"{path}: cannot compare encoded value {expected!r}")

    def _seq(self, expected: list, actual: Any, path: str) -> None:
        if len(actual) != len(expected):
            _fail(path, f"length {len(actual)} != {len(expected)}: {actual!r}")
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            self.check(e, a, f"{path}[{i}]")

    def _check_dict(self, expected: dict, actual: Any, path: str) -> None:
        special = set(expected)
        if "tensor_ref" in special:
            return self._tensor(expected, actual, path)
        if special == {"float"}:
            value = float(expected["float"])
            if not isinstance(actual, (float, np.floating)) or not (
                    (math.isnan(value) and math.isnan(actual)) or float(actual) == value):
                _fail(path, f"expected {value!r}, got {actual!r}")
            return None
        if special == {"tuple"}:
            if not isinstance(actual, tuple):
                _fail(path, f"expected tuple, got {type_name(actual)}")
            return self._seq(expected["tuple"], actual, path)
        if special == {"numpy_scalar", "dtype"}:
            if not isinstance(actual, np.generic) or actual.dtype.name != expected["dtype"]:
                _fail(path, f"expected numpy {expected['dtype']}, got {type_name(actual)}")
            return self.check(expected["numpy_scalar"], actual.item(), path)
        if special == {"dict_items"}:
            if not isinstance(actual, dict):
                _fail(path, f"expected dict, got {type_name(actual)}")
            keys = [k for k, _ in expected["dict_items"]]
            if list(actual) != keys:
                _fail(path, f"keys {list(actual)} != {keys}")
            for k, v in expected["dict_items"]:
                self.check(v, actual[k], f"{path}[{k!r}]")
            return None
        if special == {"path", "class"}:
            if not isinstance(actual, PurePath) or type(actual).__name__ != expected["class"] \
                    or actual.as_posix() != expected["path"]:
                _fail(path, f"expected {expected['class']}({expected['path']!r}), got {actual!r}")
            return None
        if special == {"torch_dtype"}:
            if actual != getattr(torch, expected["torch_dtype"]):
                _fail(path, f"expected torch.{expected['torch_dtype']}, got {actual!r}")
            return None
        if special == {"object"}:
            if type(actual).__name__ != expected["object"].rsplit(".", 1)[-1]:
                _fail(path, f"expected an object of class {expected['object']}, got {type_name(actual)}")
            return None
        if not isinstance(actual, dict):
            _fail(path, f"expected dict, got {type_name(actual)}")
        if list(actual) != list(expected):
            _fail(path, f"keys {list(actual)} != {list(expected)}")
        for k, v in expected.items():
            self.check(v, actual[k], f"{path}.{k}")
        return None

    def _tensor(self, expected: dict, actual: Any, path: str) -> None:
        if not isinstance(actual, torch.Tensor):
            _fail(path, f"expected a tensor, got {type_name(actual)}")
        if str(actual.dtype) != f"torch.{expected['dtype']}":
            _fail(path, f"dtype {actual.dtype} != {expected['dtype']}")
        if list(actual.shape) != expected["shape"]:
            _fail(path, f"shape {list(actual.shape)} != {expected['shape']}")
        want = self.tensors[expected["tensor_ref"]]
        got = actual.detach().cpu()
        if not got.is_floating_point():
            if not torch.equal(got, want):
                _fail(path, f"values differ: {got.tolist()} != {want.tolist()}")
            return
        ok = torch.isclose(got.double(), want.double(), rtol=self.tol.rtol, atol=self.tol.atol, equal_nan=True)
        if not bool(ok.all()):
            idx = (~ok).nonzero()[0].tolist()
            _fail(path, f"{int((~ok).sum())} of {ok.numel()} values differ; first at {idx}: "
                        f"got {got[tuple(idx)].item()!r}, expected {want[tuple(idx)].item()!r}")


def compare_case(case: dict, outcomes: list[dict], records: dict, files: dict) -> None:
    expected = case["expected"]
    tol = Tol(case["tolerance"]["rtol"], case["tolerance"]["atol"])
    tensors = torch.load(ROOT / case["tensors"], weights_only=True) if case.get("tensors") else {}
    cmp = Comparer(tol, tensors)
    if len(outcomes) != len(expected["steps"]):
        _fail("steps", f"{len(outcomes)} outcomes for {len(expected['steps'])} expected steps")
    type_only = case["tolerance"].get("message") == "type_only"
    for i, (step, want, got) in enumerate(zip(case["steps"], expected["steps"], outcomes, strict=True)):
        where = f"steps[{i}]"
        want = {k: v for k, v in want.items() if k != "python_warnings"}
        if step.get("expect_error") and "exception" not in got:
            _fail(where, "the step was expected to raise")
        if sorted(got) != sorted(want):
            _fail(where, f"outcome fields {sorted(got)} != {sorted(want)}; got {_short(got)}")
        for key, value in want.items():
            if key == "exception":
                _check_exception(value, got[key], type_only, f"{where}.exception")
            elif key == "return_type":
                if got[key] != value and got[key].rsplit(".", 1)[-1] != value.rsplit(".", 1)[-1]:
                    _fail(f"{where}.return_type", f"{got[key]} != {value}")
            elif key in ("stdout", "log"):
                if got[key] != value:
                    _fail(f"{where}.{key}", f"\n--- got ---\n{_text(got[key])}\n--- expected ---\n{_text(value)}")
            else:
                cmp.check(value, got[key], f"{where}.{key}")
    want_records = expected.get("records", {})
    if sorted(records) != sorted(want_records):
        _fail("records", f"labels {sorted(records)} != {sorted(want_records)}")
    for label, value in want_records.items():
        got = records[label]
        if isinstance(got, RecordError):
            _fail(f"records[{label}]", f"could not be taken: {got}")
        if isinstance(value, dict) and "exception" in value and isinstance(got, dict) and "exception" in got:
            _check_exception(value["exception"], got["exception"], type_only, f"records[{label}].exception")
            value = {k: v for k, v in value.items() if k != "exception"}
            got = {k: v for k, v in got.items() if k != "exception"}
        cmp.check(value, got, f"records[{label}]")
    want_files = expected.get("files", {})
    if sorted(files) != sorted(want_files):
        _fail("files", f"{sorted(files)} != {sorted(want_files)}")
    for name, want in want_files.items():
        got = files[name]
        for key in ("kind", "zip", "top_level_keys", "setup", "text"):
            if (key in want or key in got) and want.get(key) != got.get(key):
                _fail(f"files[{name}].{key}", f"{got.get(key)!r} != {want.get(key)!r}")
        if "content" in want:
            cmp.check(want["content"], got["content"], f"files[{name}].content")


def _check_exception(want: dict, got: dict, type_only: bool, where: str) -> None:
    if got["type"] != want["type"] or got["module"] != want["module"]:
        _fail(where, f"{got['module']}.{got['type']}({got['message']!r}) != {want['module']}.{want['type']}")
    if not type_only and got["message"] != want["message"]:
        _fail(f"{where}.message", f"{got['message']!r} != {want['message']!r}")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "\n".join(map(repr, value))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 600 else text[:600] + "..."
