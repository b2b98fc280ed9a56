"""Run a repository's own test command and read its outcome, for ``pfdtrain upgrade``.

The command runs twice: before the rewrite with the drop-in shims available, after it with
``PFDTRAIN_DISABLE_SHIMS=1``. It runs through the shell (it is the user's own command line, as in
their CI: ``pytest -q``, ``make test``, ``python -m pytest tests && python scripts/smoke.py``), in
its own process group, killed as a whole when it runs past the timeout.

Outcomes are compared as counts when the output ends with a pytest summary line (``8 passed, 1
failed in 2.1s``), else by exit status alone.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SHIMS_ENV = "PFDTRAIN_DISABLE_SHIMS"
_SUMMARY = re.compile(r"^=*\s*((?:\d+ [a-z]+(?:, )?)+) in [\d.]+s", re.MULTILINE)
_COUNT = re.compile(r"(\d+) ([a-z]+)")
_PLURAL = {"error": "errors", "warning": "warnings"}


@dataclass(frozen=True)
class TestOutcome:
    """One run of the test command."""

    __test__ = False  # not a pytest test class, whatever its name

    command: str
    shims: bool  # False: run with PFDTRAIN_DISABLE_SHIMS=1
    returncode: int | None  # None: it did not finish (timeout) or could not start
    counts: dict[str, int] | None  # parsed pytest summary, None when the output has none
    seconds: float
    tail: str  # the last lines of its output (stdout and stderr together)
    error: str | None = None  # why there is no return code

    @property
    def failures(self) -> int | None:
        if self.counts is None:
            return None
        return self.counts.get("failed", 0) + self.counts.get("errors", 0)

    def describe(self) -> str:
        if self.error is not None:
            return self.error
        if self.counts is not None:
            shown = [f"{n} {kind}" for kind, n in self.counts.items() if kind not in ("warnings", "deselected")]
            return ", ".join(shown) or "no tests ran"
        return "passed (exit status 0)" if self.returncode == 0 else f"failed (exit status {self.returncode})"


def parse_pytest_summary(output: str) -> dict[str, int] | None:
    """Counts from the last pytest summary line of ``output`` (``{"passed": 8, "failed": 1}``)."""
    found = _SUMMARY.findall(output)
    if not found:
        return None
    counts: dict[str, int] = {}
    for number, kind in _COUNT.findall(found[-1]):
        kind = _PLURAL.get(kind, kind)
        counts[kind] = counts.get(kind, 0) + int(number)
    return counts


def run_test_command(command: str, cwd: Path, *, shims: bool, timeout: float) -> TestOutcome:
    """Run ``command`` in ``cwd`` through the shell; ``shims=False`` sets ``PFDTRAIN_DISABLE_SHIMS=1``."""
    env = dict(os.environ)
    if shims:
        env.pop(SHIMS_ENV, None)
    else:
        env[SHIMS_ENV] = "1"
    started = time.monotonic()
    try:
        # shell=True: the user's own command line, run as their CI runs it
        proc = subprocess.Popen(command, shell=True, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
    except OSError as exc:
        return TestOutcome(command, shims, None, None, 0.0, "", f"could not start: {exc}")
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        output, _ = proc.communicate()
        return TestOutcome(command, shims, None, parse_pytest_summary(output or ""), time.monotonic() - started,
                           _tail(output or ""), f"timed out after {timeout:g} s (killed)")
    return TestOutcome(command, shims, proc.returncode, parse_pytest_summary(output), time.monotonic() - started,
                       _tail(output))


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _tail(output: str, lines: int = 40) -> str:
    return "\n".join(output.rstrip().splitlines()[-lines:])


def compare(before: TestOutcome, after: TestOutcome) -> tuple[bool, str]:
    """``(worse, why)``: is the after-run worse than the before-run?"""
    if after.returncode is None and before.returncode is not None:
        return True, f"the run after the migration {after.error}"
    if before.counts is not None and after.counts is not None:
        passed_before, passed_after = before.counts.get("passed", 0), after.counts.get("passed", 0)
        failed_before, failed_after = before.failures or 0, after.failures or 0
        if failed_after > failed_before or passed_after < passed_before:
            return True, (f"{passed_after} passed and {failed_after} failed after, "
                          f"{passed_before} passed and {failed_before} failed before")
        return False, "same or better counts"
    if before.returncode == 0 and after.returncode != 0:
        return True, f"exit status {after.returncode} after, 0 before"
    return False, "same or better exit status"
