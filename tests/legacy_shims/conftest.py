"""Subprocess runner for the shim tests: anything that touches sys.path / sys.meta_path runs in a
fresh interpreter, so the pytest process never sees a legacy finder or a fake ``training``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

PREAMBLE = """\
import json, sys, warnings
def report(obj):
    print("RESULT " + json.dumps(obj))
"""


def subprocess_env(extra: dict[str, str] | None = None, *, pythonpath: bool = True) -> dict[str, str]:
    env = os.environ.copy()
    env.pop("PFDTRAIN_DISABLE_SHIMS", None)
    env.pop("PYTHONWARNINGS", None)
    if pythonpath:
        parts = [str(ROOT / "src"), str(ROOT)]
        if env.get("PYTHONPATH"):
            parts.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(parts)
    else:
        env.pop("PYTHONPATH", None)
    env.update(extra or {})
    return env


class Runner:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.count = 0

    def __call__(self, code: str, *, env: dict[str, str] | None = None, python: str = sys.executable,
                 pythonpath: bool = True, expect_rc: int = 0) -> Any:
        """Run ``code`` (with :data:`PREAMBLE`) as a script in a fresh interpreter; return the
        object it passed to ``report(...)`` (None if it reported nothing)."""
        self.count += 1
        script = self.tmp_path / f"script_{self.count}.py"
        script.write_text(PREAMBLE + textwrap.dedent(code), encoding="utf-8")
        proc = subprocess.run(
            [python, str(script)], cwd=self.tmp_path, env=subprocess_env(env, pythonpath=pythonpath),
            capture_output=True, text=True, timeout=180,
        )
        if proc.returncode != expect_rc:
            pytest.fail(
                f"subprocess exited with {proc.returncode} (expected {expect_rc})\n"
                f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
            )
        return self._parse(proc)

    def run_file(self, script: Path, *, env: dict[str, str] | None = None, python: str = sys.executable,
                 pythonpath: bool = True) -> subprocess.CompletedProcess:
        """Run an existing script as is (no preamble); return the finished process."""
        return subprocess.run(
            [python, str(script)], cwd=self.tmp_path, env=subprocess_env(env, pythonpath=pythonpath),
            capture_output=True, text=True, timeout=180,
        )

    @staticmethod
    def _parse(proc: subprocess.CompletedProcess) -> Any:
        results = [line[len("RESULT "):] for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        return json.loads(results[-1]) if results else None


@pytest.fixture
def run_py(tmp_path: Path) -> Runner:
    return Runner(tmp_path)
