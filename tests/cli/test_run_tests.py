"""Running the user's test command for ``pfdtrain upgrade``: environment, timeout, outcome parsing."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import pytest

from pfdtrain.cli.run_tests import TestOutcome, compare, parse_pytest_summary, run_test_command

PY = shlex.quote(sys.executable)


@pytest.mark.parametrize(("output", "counts"), [
    ("....\n8 passed, 7 warnings in 2.24s\n", {"passed": 8, "warnings": 7}),
    ("=========== 1 failed, 7 passed, 1 error in 3.01s ===========\n", {"failed": 1, "passed": 7, "errors": 1}),
    ("x\n2 passed in 0.10s\nmore output\n3 failed, 1 passed, 2 skipped in 1.00s (0:00:01)\n",
     {"failed": 3, "passed": 1, "skipped": 2}),
    ("no tests ran in 0.01s\n", None),
    ("all good\n", None),
])
def test_the_last_pytest_summary_line_gives_the_counts(output, counts):
    assert parse_pytest_summary(output) == counts


def _outcome(code: int | None, counts: dict[str, int] | None, error: str | None = None) -> TestOutcome:
    return TestOutcome("cmd", True, code, counts, 0.1, "", error)


@pytest.mark.parametrize(("before", "after", "worse"), [
    (_outcome(0, {"passed": 8}), _outcome(0, {"passed": 8}), False),
    (_outcome(1, {"passed": 7, "failed": 1}), _outcome(1, {"passed": 7, "failed": 1}), False),  # same known failure
    (_outcome(1, {"passed": 7, "failed": 1}), _outcome(0, {"passed": 8}), False),  # better
    (_outcome(0, {"passed": 8}), _outcome(1, {"passed": 7, "failed": 1}), True),
    (_outcome(0, {"passed": 8}), _outcome(2, {"passed": 6, "errors": 1}), True),
    (_outcome(0, {"passed": 8}), _outcome(0, {"passed": 6}), True),  # fewer tests ran
    (_outcome(0, None), _outcome(1, None), True),  # not pytest: exit status
    (_outcome(1, None), _outcome(1, None), False),
    (_outcome(0, None), _outcome(None, None, "timed out after 5 s (killed)"), True),
])
def test_compare_says_whether_the_after_run_is_worse(before, after, worse):
    assert compare(before, after)[0] is worse


def test_the_shims_flag_sets_or_clears_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("PFDTRAIN_DISABLE_SHIMS", "1")
    command = f"{PY} -c \"import os; print(repr(os.environ.get('PFDTRAIN_DISABLE_SHIMS')))\""
    on = run_test_command(command, tmp_path, shims=True, timeout=60)
    off = run_test_command(command, tmp_path, shims=False, timeout=60)
    assert (on.returncode, on.tail) == (0, "None") and (off.returncode, off.tail) == (0, "'1'")


def test_a_run_past_the_timeout_is_killed_with_its_children(tmp_path):
    started = time.monotonic()
    outcome = run_test_command(f"{PY} -c 'print(1, flush=True)'; sleep 30 & sleep 30", tmp_path, shims=True,
                               timeout=1)
    assert time.monotonic() - started < 20
    assert outcome.returncode is None and outcome.error == "timed out after 1 s (killed)" and outcome.tail == "1"


def test_a_failing_command_keeps_the_end_of_its_output(tmp_path):
    outcome = run_test_command(f"{PY} -c \"import sys; print('\\n'.join(map(str, range(100)))); sys.exit(3)\"",
                               Path(tmp_path), shims=True, timeout=60)
    assert outcome.returncode == 3 and outcome.describe() == "failed (exit status 3)"
    assert outcome.tail.splitlines() == [str(i) for i in range(60, 100)]
