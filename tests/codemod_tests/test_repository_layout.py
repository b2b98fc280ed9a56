"""Where an import leads decides what the codemod does (issue 11, classes 1 and 2).

* Relative imports resolve by the file's location: in ``packages/core`` (the parent of the legacy
  package), ``from . import training`` names the legacy package and is rewritten like the absolute
  forms.
* A ``training/`` package of its own in an ancestor folder (LSTM-PFD's ``milestones/milestone-N``)
  is a vendored copy: imports that resolve to it are left as written and reported with where they
  lead, unless ``include_vendored``.

Before/after strings, as libcst's own codemod tests are written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemods import analyse_source, rewrite_source

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------- relative imports
@pytest.mark.parametrize(("path", "before", "after"), [
    ("packages/core/__init__.py",
     "from . import training\n",
     "from pfdtrain import compat as training\n"),
    ("packages/core/__init__.py",
     '"""Core."""\nfrom . import models\nfrom . import training  # the legacy package\nfrom . import features\n',
     '"""Core."""\nfrom . import models\nfrom pfdtrain import compat as training  # the legacy package\n'
     "from . import features\n"),
    ("packages/core/__init__.py",
     "from . import models, training, evaluation\n",
     "from . import models, evaluation\nfrom pfdtrain import compat as training\n"),
    ("packages/core/__init__.py",
     "from . import training as legacy\n",
     "from pfdtrain import compat as legacy\n"),
    ("packages/core/pipeline.py",
     "from .training import cnn_trainer\n",
     "from pfdtrain.compat import cnn_trainer\n"),
    ("packages/core/pipeline.py",
     "from .training.cnn_trainer import CNNTrainer\n",
     "from pfdtrain.compat.cnn_trainer import CNNTrainer\n"),
    ("packages/core/evaluation/pinn_evaluator.py",
     "from ..training.losses import FocalLoss as Focal\n",
     "from pfdtrain.compat.losses import FocalLoss as Focal\n"),
    ("packages/core/evaluation/deep/report.py",
     "def build():\n    from ...training.physics_loss_functions import FrequencyConsistencyLoss\n"
     "    return FrequencyConsistencyLoss\n",
     "def build():\n    from pfdtrain.compat.physics_loss_functions import FrequencyConsistencyLoss\n"
     "    return FrequencyConsistencyLoss\n"),
    # a top-level training/ is the legacy package too (the root itself is a package here)
    ("__init__.py",
     "from .training.cnn_losses import FocalLoss\n",
     "from pfdtrain.compat.cnn_losses import FocalLoss\n"),
    # a name without a mapping stays on the relative import, reported; the rest moves
    ("packages/core/pipeline.py",
     "from .training.cnn_losses import (\n    FocalLoss,  # tuned\n    create_loss_function,\n)\n",
     "from pfdtrain.compat.cnn_losses import (\n    FocalLoss,  # tuned\n)\n"
     "from .training.cnn_losses import create_loss_function\n"),
    # the absolute spelling of the parent form
    ("scripts/report.py",
     "from packages.core import models, training as core_training\n",
     "from packages.core import models\nfrom pfdtrain import compat as core_training\n"),
    # the deprecated function keeps its warning adapter, as in the absolute form
    ("packages/core/pipeline.py",
     "from .training.optimizers import create_optimizer\nopt = create_optimizer(p, 'sgd')\n",
     "from pfdtrain.compat.optimizers import create_optimizer\nopt = create_optimizer(p, 'sgd')\n"),
])
def test_relative_imports_of_the_legacy_package_are_rewritten_like_absolute_ones(path, before, after, rewrite):
    assert rewrite(before, path=path) == after


def test_the_parent_import_is_reported_as_the_package_itself(findings):
    (found,) = findings("from . import models, training\n", path="packages/core/__init__.py")
    assert (found.kind, found.legacy, found.target, found.status) == (
        "relative-import", "training", "pfdtrain.compat", "rewritten")


@pytest.mark.parametrize(("path", "source"), [
    ("src/app/__init__.py", "from . import training\n"),  # not where the legacy package lives
    ("src/app/pipeline.py", "from .training import loop\nfrom ..training.data import x\n"),
    ("packages/core/__init__.py", "from . import models\nfrom .models import training\n"),
    ("packages/core/models/__init__.py", "from . import training\n"),  # packages/core/models/training
])
def test_relative_imports_that_do_not_reach_the_legacy_package_are_untouched(path, source, rewrite, findings):
    assert rewrite(source, path=path) == source
    assert findings(source, path=path) == []


def test_a_sibling_module_named_training_is_the_users_own(tmp_path, rewrite, findings):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "training.py").write_text("LOOP = 1\n")
    source = "from . import training\n"
    path = str(tmp_path / "app" / "__init__.py")
    assert rewrite(source, path=path, root=str(tmp_path)) == source
    assert findings(source, path=path, root=str(tmp_path)) == []


def test_files_of_the_legacy_package_itself_are_left_alone():
    source = b"from .trainer import Trainer\nfrom training.cnn_losses import create_criterion\n"
    analysis = analyse_source(source, "packages/core/training/mixed_precision.py")
    assert analysis.legacy_package == "packages/core/training"
    assert analysis.findings == [] and not analysis.changes


def test_after_the_rewrite_the_parent_still_reaches_the_legacy_modules_by_attribute(tmp_path):
    """``packages.core.training.cnn_trainer.CNNTrainer`` works with the package deleted and the shims
    off, as it did through the shims: the adapters load as attributes on first use."""
    core = tmp_path / "packages" / "core"
    core.mkdir(parents=True)
    (tmp_path / "packages" / "__init__.py").write_text("")
    (core / "__init__.py").write_text("from . import training\n")
    result = rewrite_source((core / "__init__.py").read_bytes(), str(core / "__init__.py"), root=str(tmp_path))
    (core / "__init__.py").write_bytes(result.new_source)
    code = ("import packages.core, pfdtrain.compat.cnn_trainer as c\n"
            "assert packages.core.training.cnn_trainer.CNNTrainer is c.CNNTrainer\n"
            "assert packages.core.training.optimizers.create_optimizer.__module__ == 'pfdtrain.compat.optimizers'\n"
            "print('ok')\n")
    env = dict(os.environ, PFDTRAIN_DISABLE_SHIMS="1",
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT / "src"), str(ROOT)]))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# --------------------------------------------------------------------------- vendored copies
@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository like LSTM-PFD: the legacy package, scripts, and a milestone with its own copy."""
    files = {
        "packages/__init__.py": "",
        "packages/core/__init__.py": "from . import training\n",
        "packages/core/training/__init__.py": "__all__ = []\n",
        "packages/core/training/optimizers.py": "from training.cnn_optimizer import create_optimizer as _c\n",
        "packages/core/evaluation/pinn_evaluator.py": (
            "from training.physics_loss_functions import FrequencyConsistencyLoss\n"),
        "scripts/train_cnn.py": "from training.cnn_trainer import CNNTrainer\n",
        "milestones/milestone-2/training/__init__.py": "",
        "milestones/milestone-2/training/optimizers.py": "from training.losses import create_loss_function\n",
        "milestones/milestone-2/training/mixed_precision.py": "from .trainer import Trainer\n",
        "milestones/milestone-2/scripts/train_lstm.py": (
            "import sys\nfrom pathlib import Path\nsys.path.insert(0, str(Path(__file__).parent.parent))\n"
            "from training.optimizers import create_optimizer\nimport training.losses as L\n"
            "from packages.core.training.cnn_losses import FocalLoss\n"
            "PATCH = 'training.optimizers.create_optimizer'\n"),
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def _run(repo: Path, rel: str, rewrite, findings, **options):
    source = (repo / rel).read_text()
    path = str(repo / rel)
    return rewrite(source, path=path, root=str(repo), **options), findings(source, path=path, root=str(repo), **options)


def _after(repo: Path, rel: str, rewrite) -> str:
    return rewrite((repo / rel).read_text(), path=str(repo / rel), root=str(repo))


def test_imports_that_resolve_to_a_vendored_copy_are_left_and_say_where(repo, rewrite, findings):
    after, found = _run(repo, "milestones/milestone-2/scripts/train_lstm.py", rewrite, findings)
    assert after == (repo / "milestones/milestone-2/scripts/train_lstm.py").read_text().replace(
        "from packages.core.training.cnn_losses import FocalLoss",  # always the legacy package
        "from pfdtrain.compat.cnn_losses import FocalLoss")
    left = [(f.line, f.kind, f.legacy, f.vendored) for f in found if f.status == "left"]
    copy = "milestones/milestone-2/training"
    assert left == [(4, "import", "training.optimizers.create_optimizer", copy), (5, "import", "training.losses", copy),
                    (7, "string", "training.optimizers.create_optimizer", copy)]
    assert all(f"resolves to the vendored copy {copy}" in f.message for f in found if f.status == "left")


def test_files_inside_a_vendored_copy_are_left_too(repo, rewrite, findings):
    rel = "milestones/milestone-2/training/optimizers.py"
    after, found = _run(repo, rel, rewrite, findings)
    assert after == (repo / rel).read_text()
    (f,) = found
    assert f.vendored == "milestones/milestone-2/training" and f.status == "left"


def test_a_module_missing_from_the_copy_is_named(repo, findings):
    rel = "milestones/milestone-2/training/mixed_precision.py"
    (f,) = findings((repo / rel).read_text(), path=str(repo / rel), root=str(repo))
    assert f.legacy == "training.trainer.Trainer"
    assert "the copy has no module trainer: this import works only while" in f.message


def test_the_legacy_package_in_an_ancestor_is_not_a_vendored_copy(repo, rewrite):
    assert _after(repo, "packages/core/evaluation/pinn_evaluator.py", rewrite) == (
        "from pfdtrain.compat.physics_loss_functions import FrequencyConsistencyLoss\n")
    assert _after(repo, "scripts/train_cnn.py", rewrite) == "from pfdtrain.compat.cnn_trainer import CNNTrainer\n"
    assert _after(repo, "packages/core/__init__.py", rewrite) == "from pfdtrain import compat as training\n"


def test_include_vendored_rewrites_them_as_the_legacy_package(repo, rewrite, findings):
    after, found = _run(repo, "milestones/milestone-2/scripts/train_lstm.py", rewrite, findings, include_vendored=True)
    assert "from pfdtrain.compat.optimizers import create_optimizer\nimport pfdtrain.compat.losses as L\n" in after
    assert "PATCH = 'pfdtrain.compat.optimizers.create_optimizer'" in after
    assert all(f.vendored is None for f in found)
    after, _ = _run(repo, "milestones/milestone-2/training/mixed_precision.py", rewrite, findings,
                    include_vendored=True)
    assert after == "from pfdtrain.compat.trainer import Trainer\n"
