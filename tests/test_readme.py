"""README's two set-up commands are what CI runs, so they cannot rot."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    blocks = re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    return blocks[0].strip(), blocks[1].strip()


def test_readme_opens_with_install_plus_main_job_then_tests():
    install_and_run, tests = _readme_commands()
    assert install_and_run.endswith("&& .venv/bin/pfdtrain demo")
    assert "-c constraints.txt" in install_and_run
    assert tests == ".venv/bin/python -m pytest"


def test_ci_runs_the_readme_install_step_and_test_command_verbatim():
    install_and_run, tests = _readme_commands()
    install = install_and_run.removesuffix(" && .venv/bin/pfdtrain demo")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert install in ci
    assert re.search(rf"^{re.escape(tests)}$", ci, re.M)


def test_constraints_pin_torch_2_13():
    pins = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    assert "torch==2.13.0" in pins
