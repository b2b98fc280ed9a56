"""The start-up hook after a real install: the wheel (and the editable wheel) carry
``pfdtrain-legacy-shims.pth`` at their root, and a fresh interpreter of a fresh venv with pfdtrain
installed serves ``training.*`` with no change to the script, sys.path or the environment.

Offline and fast: wheels are built with ``--no-index --no-build-isolation`` (hatchling comes from
the test interpreter's environment); each venv is created ``--without-pip`` and filled by this
interpreter's pip (``pip --python``). Its only link to the test environment is a path ``.pth``
(``00-host-site.pth``) that adds this environment's site-packages *after* its own, for torch,
numpy and hatchling; ``.pth`` files there are not processed, so nothing of the host's pfdtrain
install leaks in.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PTH = "pfdtrain-legacy-shims.pth"

pytestmark = pytest.mark.slow


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    if proc.returncode != 0:
        pytest.fail(f"{cmd} failed ({proc.returncode})\n{proc.stdout}\n{proc.stderr}")
    return proc


def _venv(path: Path) -> tuple[str, Path]:
    _run([sys.executable, "-m", "venv", "--without-pip", str(path)])
    python = str(path / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python"))
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "00-host-site.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return python, site


def _pip_install(python: str, *args: str) -> None:
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
          "--no-build-isolation", "-q", *args])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(out), str(ROOT)])
    (found,) = out.glob("pfdtrain-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[str, Path]:
    python, site = _venv(tmp_path_factory.mktemp("venv") / "v")
    _pip_install(python, str(wheel))
    return python, site


@pytest.fixture(scope="module")
def editable(tmp_path_factory) -> tuple[str, Path]:
    python, site = _venv(tmp_path_factory.mktemp("venv_editable") / "v")
    _pip_install(python, "-e", str(ROOT))  # what the README's `pip install -e .` does
    return python, site


def _fresh(python: str, code: str, cwd: Path) -> str:
    # A bare start: no PYTHONPATH, no shim variable, run from an empty folder.
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("PYTHONPATH", "PFDTRAIN_DISABLE_SHIMS", "PYTHONWARNINGS", "PYTHONSTARTUP")}
    return _run([python, "-c", code], cwd=cwd, env=env).stdout


def test_wheel_has_the_pth_at_its_root_and_nowhere_else(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert PTH in names
        assert zf.read(PTH).decode().strip() == "import legacy_shims._install"
    assert [n for n in names if n.endswith(".pth")] == [PTH]
    assert "legacy_shims/finder.py" in names and "pfdtrain/legacy_map.py" in names


def test_editable_wheel_has_the_pth_too(tmp_path):
    out = tmp_path / "ed"
    code = f"from hatchling.build import build_editable; print(build_editable({str(out)!r}))"
    name = _run([sys.executable, "-c", code],
                cwd=ROOT).stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(out / name) as zf:
        assert zf.read(PTH).decode().strip() == "import legacy_shims._install"


CHECK = """
import sys, json
state = {"last": type(sys.meta_path[-1]).__name__,
         "heavy": sorted(m for m in ("torch", "numpy", "pfdtrain", "pfdtrain.compat", "training", "packages")
                         if m in sys.modules)}
import warnings
warnings.simplefilter("ignore")
import training.cnn_losses
from training.cnn_losses import FocalLoss
from packages.core.training.optimizers import get_lr
import pfdtrain.compat.cnn_losses, legacy_shims
state.update(served=training.cnn_losses.__spec__.origin, same=FocalLoss is pfdtrain.compat.cnn_losses.FocalLoss,
             pfdtrain=pfdtrain.__file__, legacy_shims=legacy_shims.__file__)
print(json.dumps(state))
"""


@pytest.mark.parametrize("kind", ["installed", "editable"])
def test_fresh_interpreter_serves_legacy_imports_after_install(kind, request, tmp_path):
    import json

    python, site = request.getfixturevalue(kind)
    state = json.loads(_fresh(python, CHECK, tmp_path))
    assert state["last"] == "LegacyFinder"  # appended at the END of sys.meta_path by the .pth
    assert state["heavy"] == []  # nothing heavy, and no training, imported at start-up
    assert state["served"] == "pfdtrain legacy shim" and state["same"]
    if kind == "installed":
        assert state["pfdtrain"].startswith(str(site)) and state["legacy_shims"].startswith(str(site))
    else:
        assert state["legacy_shims"] == str(ROOT / "legacy_shims" / "__init__.py")


@pytest.mark.parametrize("kind", ["installed", "editable"])
def test_pth_adds_only_the_three_tiny_shim_modules_at_start_up(kind, request, tmp_path):
    python, site = request.getfixturevalue(kind)
    # -S: start without site, then process the site dir exactly as start-up does and diff sys.modules.
    code = (
        "import sys, site\n"
        "before = set(sys.modules)\n"
        f"site.addsitedir({str(site)!r})\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    added = eval(_run([python, "-S", "-c", code], cwd=tmp_path).stdout)
    ours = [m for m in added if m.startswith("legacy_shims")]
    assert ours == ["legacy_shims", "legacy_shims._install", "legacy_shims.finder"]
    if kind == "installed":
        assert added == ours  # nothing else at all: no torch, no pfdtrain, no importlib extras
    else:  # the editable hook itself (hatchling/editables) loads its own redirector first
        assert not any(m.split(".")[0] in ("torch", "numpy", "pfdtrain", "training") for m in added), added


def test_disable_variable_after_install(installed, tmp_path):
    python, _ = installed
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("PYTHONPATH", "PFDTRAIN_DISABLE_SHIMS")}
    on = subprocess.run([python, "-c", "import training.cnn_losses"], cwd=tmp_path, env=env,
                        capture_output=True, text=True, timeout=120)
    off = subprocess.run([python, "-c", "import training.cnn_losses"], cwd=tmp_path,
                         env={**env, "PFDTRAIN_DISABLE_SHIMS": "1"}, capture_output=True, text=True, timeout=120)
    assert on.returncode == 0, on.stderr
    assert off.returncode == 1 and "ModuleNotFoundError: No module named 'training'" in off.stderr
