"""Replay every case of ``golden/numerics/*.json`` against the legacy adapters.

How each case is replayed is fixed by ``golden/numerics/README.md`` ("How to replay"); the golden
files are data and are never modified here. Targets are resolved through
``legacy_resolver.resolve`` only, so switching the import path later changes one function.
Every case is one test; a failing case is a failure (no skips, no xfails).
"""

from __future__ import annotations

import builtins
import json
import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from golden_codec import (
    EXACT,
    CaseContext,
    Tol,
    check,
    public_simple_attrs,
    same_as_snapshot,
    snapshot,
    type_name,
)
from legacy_resolver import resolve

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden" / "numerics"

#: README: scheduler lrs are doubles compared with rtol 1e-9 / atol 1e-12; error cases carry only
#: a message tolerance, so their recorded lrs_before_error use this one.
SCHEDULER_TOL = Tol(1e-9, 1e-12)

#: README ("Parts of expected that describe the Python environment"): sklearn 1.9 returns a
#: builtin float from f1_score where older releases return numpy.float64. That output_type is a
#: property of the recording environment, not of legacy logic, so for sklearn-backed metric
#: targets either spelling is accepted (our metrics return builtin floats, like sklearn 1.9).
ENVIRONMENT_OUTPUT_TYPES = {("training.metrics.", "builtins.float"): {"numpy.float64"}}


def _load_cases() -> list[tuple[dict, dict]]:
    cases = []
    for path in sorted(GOLDEN_DIR.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        meta = {k: v for k, v in doc.items() if k != "cases"}
        cases.extend((meta, case) for case in doc["cases"])
    return cases


CASES = _load_cases()


@pytest.fixture(autouse=True)
def _recording_settings():
    """The golden data was recorded single-threaded with deterministic algorithms."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)


def test_case_count_matches_readme():
    assert len(CASES) == 214
    assert len({c["id"] for _, c in CASES}) == len(CASES)


@pytest.mark.parametrize(("meta", "case"), CASES, ids=[c["id"] for _, c in CASES])
def test_golden_case(meta: dict, case: dict) -> None:
    # On the recording torch the torch-default optimizer hparam keys are compared as well
    # (README: a re-implementation built on the same torch reproduces them).
    full_hparams = torch.__version__ == meta["torch_version"]
    replay = Replay(case, full_hparams)
    if case.get("record_warnings"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            replay.run()
        replay.check_warnings(caught)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            replay.run()


class StageError(Exception):
    """An exception raised by legacy-facing code, tagged with the replay stage."""

    def __init__(self, stage: str, exc: BaseException, step: int | None = None) -> None:
        super().__init__(f"{stage}: {exc!r}")
        self.stage, self.exc, self.step = stage, exc, step


class Replay:
    def __init__(self, case: dict, full_hparams: bool) -> None:
        self.case = case
        self.expected = case["expected"]
        tol = case.get("tolerance", {})
        self.tol = Tol(tol["rtol"], tol["atol"]) if "rtol" in tol else EXACT
        self.full_hparams = full_hparams
        self.ctx = CaseContext(case, resolve)
        self.target = resolve(case["target"])

    # ---------------------------------------------------------------- driver

    def run(self) -> None:
        flow = self.case["flow"]
        try:
            getattr(self, f"_flow_{flow}")()
        except StageError as err:
            self._check_error(err)
            return
        assert "error" not in self.expected, (
            f"expected {self.expected['error']['type']} at stage {self.expected['error']['stage']}, "
            "but nothing was raised")

    def _stage(self, stage: str, fn, *args, step: int | None = None, **kwargs) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if "error" not in self.expected:
                raise
            raise StageError(stage, exc, step) from exc

    def _check_error(self, err: StageError) -> None:
        want = self.expected.get("error")
        if want is None:
            raise err.exc
        assert type(err.exc).__name__ == want["type"], (
            f"raised {type(err.exc).__name__}({err.exc}) at {err.stage}, expected {want['type']}")
        assert err.stage == want["stage"], f"raised at stage {err.stage}, expected {want['stage']}"
        if "step" in want:
            assert err.step == want["step"], f"raised at step {err.step}, expected {want['step']}"
        if self.case["tolerance"].get("message") == "exact":
            assert str(err.exc) == want["message"], f"message {str(err.exc)!r} != {want['message']!r}"

    def _split(self, inputs: dict, order: list[str]) -> tuple[list, dict]:
        return [inputs[n] for n in order], {k: v for k, v in inputs.items() if k not in order}

    def _construct(self) -> Any:
        init = self.case.get("init")
        if init is None:
            return self.target
        obj = self._stage("construct", self.target, **self.ctx.decode(init))
        if "object" in self.expected:
            self._check_object(obj)
        return obj

    def _check_object(self, obj: Any) -> None:
        want = self.expected["object"]
        assert type(obj).__name__ == want["class"], f"object class {type(obj).__name__} != {want['class']}"
        check(want["attrs"], public_simple_attrs(obj), EXACT, "object.attrs")

    def _seed(self) -> None:
        seed = self.case.get("seed")
        if seed is not None:
            torch.manual_seed(seed)
            np.random.seed(seed)
            random.seed(seed)

    # ---------------------------------------------------------------- flows

    def _flow_call(self) -> None:
        obj = self._construct()
        inputs = self._stage("decode", self.ctx.decode, self.case["inputs"])
        for name in self.case.get("grad_wrt", []):
            inputs[name].requires_grad_(True)
        before = {k: snapshot(v) for k, v in inputs.items()}
        args, kwargs = self._split(inputs, self.case.get("arg_order", []))
        self._seed()
        out = self._stage("call", obj, *args, **kwargs)
        self._check_output(out, self.expected)
        self._check_grads(out, inputs)
        mutated = sorted(k for k, v in inputs.items() if not same_as_snapshot(v, before[k]))
        assert mutated == sorted(self.expected.get("mutated_inputs", [])), f"mutated inputs {mutated}"
        aliases = sorted(
            k for k, v in inputs.items()
            if isinstance(v, (torch.Tensor, np.ndarray, torch.nn.Module))
            and any(o is v for o in (out if isinstance(out, tuple) else (out,))))
        assert aliases == sorted(self.expected.get("output_aliases_input", [])), (
            f"output aliases inputs {aliases}, expected {self.expected.get('output_aliases_input', [])}")
        self._check_post_state()

    def _flow_scheduler(self) -> None:
        inputs = self._stage("decode", self.ctx.decode, self.case["inputs"])
        optimizer = self.ctx.optimizer
        args, kwargs = self._split(inputs, self.case.get("arg_order", []))
        keys = self.case.get("extra_group_keys", [])
        lrs: list[list[float]] = []
        extra: dict[str, list] = {k: [] for k in keys}

        def record() -> None:
            lrs.append([g["lr"] for g in optimizer.param_groups])
            for k in keys:
                extra[k].append([g[k] for g in optimizer.param_groups])

        try:
            sched = self._stage("construct", self.target, *args, **kwargs)
            if "scheduler_class" in self.expected:
                assert type(sched).__name__ == self.expected["scheduler_class"]
            record()
            step_args = self.case.get("step_args")
            for i in range(self.case.get("steps", 0)):
                optimizer.step()
                self._stage("step", sched.step, *(step_args[i] if step_args else ()), step=i)
                record()
        except StageError:
            if "lrs_before_error" in self.expected:
                check(self.expected["lrs_before_error"], lrs, SCHEDULER_TOL, "lrs_before_error")
            raise
        check(self.expected["lrs"], lrs, self.tol, "lrs")
        for k in keys:
            check(self.expected[f"{k}s"], extra[k], self.tol, f"{k}s")

    def _flow_ops(self) -> None:
        obj = self._construct()
        outs = self.expected["op_outputs"]
        assert len(outs) == len(self.case["ops"])
        for i, op in enumerate(self.case["ops"]):
            inputs = self.ctx.decode(op["inputs"])
            args, kwargs = self._split(inputs, op.get("arg_order", []))
            out = self._stage("call", getattr(obj, op["method"]), *args, **kwargs)
            check(outs[i], out, self.tol, f"op_outputs[{i}] ({op['method']})")

    # ---------------------------------------------------------------- checks

    def _check_output(self, out: Any, expected: dict) -> None:
        if "output_type" in expected:
            got, want = type_name(out), expected["output_type"]
            allowed = {want}
            for (prefix, name), alternatives in ENVIRONMENT_OUTPUT_TYPES.items():
                if self.case["target"].startswith(prefix) and name == want:
                    allowed |= alternatives
            assert got in allowed, f"output_type {got} != {want}"
        check(expected["output"], out, self.tol, "output", full_hparams=self.full_hparams,
              param_names=self.ctx.param_names)

    def _check_grads(self, out: Any, inputs: dict) -> None:
        names = self.case.get("grad_wrt")
        if not names:
            return
        loss = out[0] if isinstance(out, tuple) else out
        requires = bool(getattr(loss, "requires_grad", False))
        assert requires == self.expected["output_requires_grad"], f"output requires_grad {requires}"
        if requires:
            grads = torch.autograd.grad(loss.sum(), [inputs[n] for n in names], allow_unused=True)
        else:
            grads = [None] * len(names)
        for name, grad in zip(names, grads, strict=True):
            want = self.expected["grads"][name]
            if want is None:
                assert grad is None, f"grads.{name}: expected no gradient path, got one"
            else:
                assert grad is not None, f"grads.{name}: expected a gradient, got none"
                check(want, grad, self.tol, f"grads.{name}")

    def _check_post_state(self) -> None:
        post = self.expected.get("post_state")
        if not post:
            return
        for ref, want in post.items():
            if ref == "optimizer":
                check({"optimizer": want}, self.ctx.optimizer, EXACT, "post_state.optimizer",
                      full_hparams=self.full_hparams, param_names=self.ctx.param_names)
                continue
            model = self.ctx.models[ref]
            state = {
                "training": model.training,
                "grads_populated": sorted(n for n, p in model.named_parameters() if p.grad is not None),
            }
            check(want, state, EXACT, f"post_state.{ref}")

    def check_warnings(self, caught: list[warnings.WarningMessage]) -> None:
        want = self.expected.get("warnings", [])
        got = [(w.category, str(w.message)) for w in caught]
        assert len(got) == len(want), f"warnings {[(c.__name__, m) for c, m in got]} != {want}"
        for i, ((category, message), w) in enumerate(zip(got, want, strict=True)):
            base = getattr(builtins, w["category"], None)
            assert base is not None and issubclass(category, base), (
                f"warnings[{i}] category {category.__name__} is not a {w['category']}")
            assert message == w["message"], f"warnings[{i}] message {message!r} != {w['message']!r}"
