"""Fallback only, both directions: a real module always wins (pfdtrain stays out of the way), and a
missing legacy module is served even when its parent package is real. Each case builds a small
user repository in a temp dir and runs in a fresh interpreter with that dir on sys.path."""

from __future__ import annotations

from pathlib import Path


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_real_training_package_wins_and_pfdtrain_is_not_even_imported(run_py, tmp_path):
    repo = _write(tmp_path / "repo", {
        "training/__init__.py": "__all__ = []\n",
        "training/cnn_losses.py": "FocalLoss = 'real FocalLoss'\n",
        "training/optimizers.py": "def get_lr(optimizer):\n    return 'real get_lr'\n",
    })
    result = run_py(f"""
        import legacy_shims._install
        sys.path.insert(0, {str(repo)!r})
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            import training
            from training.cnn_losses import FocalLoss
            from training.optimizers import get_lr
        report({{"file": training.__file__, "focal": FocalLoss, "get_lr": get_lr(None),
                "warnings": [str(w.message) for w in caught],
                "pfdtrain_loaded": sorted(m for m in sys.modules if m.startswith("pfdtrain")),
                "last": type(sys.meta_path[-1]).__name__}})
    """)
    assert result["file"] == str(repo / "training" / "__init__.py")
    assert result["focal"] == "real FocalLoss" and result["get_lr"] == "real get_lr"
    assert result["warnings"] == []
    assert result["pfdtrain_loaded"] == []  # the finder was never even asked
    assert result["last"] == "LegacyFinder"


def test_missing_legacy_child_of_a_real_training_package_is_served_other_names_are_not(run_py, tmp_path):
    # e.g. a repository shipping its own unrelated `training` package that shadows the shim
    repo = _write(tmp_path / "repo", {
        "training/__init__.py": "OWN = True\n",
        "training/data.py": "X = 'own data module'\n",
    })
    result = run_py(f"""
        import legacy_shims._install
        sys.path.insert(0, {str(repo)!r})
        import training, training.data
        import training.cnn_losses
        from training.cnn_losses import FocalLoss
        from pfdtrain.compat.cnn_losses import FocalLoss as target
        try:
            import training.foo
            foo = None
        except ModuleNotFoundError as exc:
            foo = str(exc)
        report({{"own": training.OWN, "data": training.data.X, "origin": training.cnn_losses.__spec__.origin,
                "same": FocalLoss is target, "attr": training.cnn_losses is sys.modules["training.cnn_losses"],
                "foo": foo}})
    """)
    assert result["own"] is True and result["data"] == "own data module"  # the real package is untouched
    assert result["origin"] == "pfdtrain legacy shim" and result["same"] and result["attr"]
    assert result["foo"] == "No module named 'training.foo'"


def test_leftover_namespace_training_folder_still_gets_its_legacy_modules(run_py, tmp_path):
    # git rm of packages/core/training leaves __pycache__ behind: the folder becomes a namespace package
    repo = _write(tmp_path / "repo", {"packages/core/training/__pycache__/trainer.cpython-311.pyc": ""})
    result = run_py(f"""
        import legacy_shims._install
        sys.path.insert(0, {str(repo / "packages" / "core")!r})
        import training
        from training.optimizers import get_lr
        from pfdtrain.compat.optimizers import get_lr as target
        report({{"namespace": training.__spec__.origin, "same": get_lr is target}})
    """)
    assert result["namespace"] is None  # the real (namespace) package was used ...
    assert result["same"]  # ... and its missing legacy module was served


def test_real_packages_core_whose_init_imports_the_missing_training_child(run_py, tmp_path):
    repo = _write(tmp_path / "repo", {
        "packages/__init__.py": "",
        "packages/core/__init__.py": "from . import training\nCORE = 'real core'\n",
        "scripts/train.py": "",
    })
    result = run_py(f"""
        import legacy_shims._install
        sys.path.insert(0, {str(repo)!r})
        sys.path.insert(0, {str(repo / "packages" / "core")!r})
        import packages.core
        from packages.core.training.cnn_trainer import __name__ as shim_name
        from packages.core.training.optimizers import get_lr
        from training.optimizers import get_lr as get_lr2
        from pfdtrain.compat.optimizers import get_lr as target
        try:
            from packages.core.training import Trainer
            trainer = None
        except ImportError as exc:
            trainer = [type(exc).__name__, str(exc)]
        report({{"core_file": packages.core.__file__, "core": packages.core.CORE,
                "training": packages.core.training.__spec__.origin, "shim_name": shim_name,
                "same": get_lr is get_lr2 is target, "trainer": trainer}})
    """)
    assert result["core_file"] == str(repo / "packages" / "core" / "__init__.py")
    assert result["core"] == "real core"
    assert result["training"] == "pfdtrain legacy shim"
    assert result["shim_name"] == "packages.core.training.cnn_trainer"
    assert result["same"]
    assert result["trainer"][0] == "LegacyImportError"
    assert "`from pfdtrain import Trainer`" in result["trainer"][1]


def test_real_packages_core_training_wins(run_py, tmp_path):
    repo = _write(tmp_path / "repo", {
        "packages/__init__.py": "",
        "packages/core/__init__.py": "from . import training\n",
        "packages/core/training/__init__.py": "__all__ = []\n",
        "packages/core/training/cnn_losses.py": "FocalLoss = 'real'\n",
    })
    result = run_py(f"""
        import legacy_shims._install
        sys.path.insert(0, {str(repo)!r})
        from packages.core.training.cnn_losses import FocalLoss
        import packages.core.training as t
        report({{"focal": FocalLoss, "file": t.__file__, "pfdtrain": "pfdtrain" in sys.modules}})
    """)
    assert result == {"focal": "real", "file": str(repo / "packages" / "core" / "training" / "__init__.py"),
                      "pfdtrain": False}


def test_a_finder_appended_after_the_shims_still_wins(run_py):
    result = run_py("""
        import importlib.machinery, importlib.util, types
        import legacy_shims._install

        class Late:
            def find_spec(self, fullname, path=None, target=None):
                if fullname == "training":
                    return importlib.machinery.ModuleSpec(fullname, self)
                return None
            def create_module(self, spec):
                return None
            def exec_module(self, module):
                module.LATE = True

        sys.meta_path.append(Late())
        import training
        report({"late": getattr(training, "LATE", False), "origin": training.__spec__.origin})
    """)
    assert result == {"late": True, "origin": None}
