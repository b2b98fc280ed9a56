"""The drop-in import shims with no real ``training`` anywhere: every spelling works, names warn
once, wrong names fail clearly, and nothing heavy loads before it is used. Each test runs in a
fresh interpreter (see conftest.run_py)."""

from __future__ import annotations

from pfdtrain.legacy_map import LEGACY_MODULES, NEVER_EXISTED, TABLE


def test_every_legacy_module_imports_in_every_spelling_without_loading_torch(run_py):
    result = run_py(f"""
        import importlib
        import legacy_shims._install
        out = {{}}
        for m in {list(LEGACY_MODULES)!r}:
            a = importlib.import_module("training." + m)
            b = importlib.import_module("packages.core.training." + m)
            ns = {{}}
            exec(f"from packages.core.training import {{m}} as c", ns)
            listed = sorted(a.__all__) == sorted(dir_ for dir_ in dir(a) if dir_ in a.__all__)
            out[m] = [a.__name__, b.__name__, ns["c"] is b, listed]
        import training, packages.core.training as pct
        report({{"mods": out, "torch": "torch" in sys.modules, "compat": "pfdtrain.compat" in sys.modules,
                "training_all": training.__all__, "pct_all": pct.__all__,
                "dir_training": sorted(set(dir(training)) & set({list(LEGACY_MODULES)!r}))}})
    """)
    assert result["torch"] is False and result["compat"] is False  # module import is lazy
    assert result["training_all"] == [] and result["pct_all"] == []  # legacy __init__: __all__ = []
    assert len(result["dir_training"]) == 22
    for m in LEGACY_MODULES:
        assert result["mods"][m] == [f"training.{m}", f"packages.core.training.{m}", True, True]


def test_every_public_name_resolves_in_every_spelling_to_the_compat_object(run_py):
    entries = [(e.module, e.name) for e in TABLE]
    result = run_py(f"""
        import importlib
        import legacy_shims._install
        warnings.simplefilter("ignore")
        failures = []
        for module, name in {entries!r}:
            try:
                target = getattr(importlib.import_module("pfdtrain.compat." + module), name)
                ns = {{}}
                exec(f"from training.{{module}} import {{name}} as a", ns)
                exec(f"from packages.core.training.{{module}} import {{name}} as b", ns)
                exec(f"import training.{{module}} as t; c = t.{{name}}", ns)
                exec(f"from packages.core.training import {{module}} as p; d = p.{{name}}", ns)
                if not all(ns[k] is target for k in "abcd"):
                    failures.append(f"training.{{module}}.{{name}}: not the compat object")
            except Exception as exc:
                failures.append(f"training.{{module}}.{{name}}: {{type(exc).__name__}}: {{exc}}".splitlines()[0])
        report(failures)
    """)
    assert result == [], f"{len(result)} legacy names do not resolve:\n" + "\n".join(result)


def test_attribute_access_and_from_import_share_one_resolution_and_objects(run_py):
    result = run_py("""
        import legacy_shims._install
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            import training.cnn_losses as t
            a = t.FocalLoss
            from training.cnn_losses import FocalLoss as b
            import packages.core.training.cnn_losses as p
            c = p.FocalLoss
            from pfdtrain.compat.cnn_losses import FocalLoss as target
        report({"same": a is b is c is target, "copied": "FocalLoss" in vars(t),
                "n": [str(w.message).split(" is a legacy")[0] for w in caught]})
    """)
    # the shim holds no copy: every read goes to the compat module (so patches are seen everywhere)
    assert result["same"] and not result["copied"]
    # once per spelling: training.* twice (attribute + from-import) gives one warning
    assert result["n"] == ["training.cnn_losses.FocalLoss", "packages.core.training.cnn_losses.FocalLoss"]


def test_each_name_warns_once_with_a_deprecation_subclass_naming_the_new_import(run_py, tmp_path):
    result = run_py("""
        import legacy_shims._install
        from pfdtrain.errors import LegacyImportWarning
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            from training.cnn_losses import FocalLoss
            from training.cnn_losses import FocalLoss
            from training.optimizers import get_lr, set_lr
            from training.optimizers import get_lr
            import training.cnn_losses
            training.cnn_losses.FocalLoss
            training.cnn_losses.test_losses
        report([{"cat": w.category.__name__, "deprecation": issubclass(w.category, DeprecationWarning),
                 "legacy": issubclass(w.category, LegacyImportWarning), "msg": str(w.message),
                 "file": w.filename} for w in caught])
    """)
    assert [w["msg"].split(" ")[0] for w in result] == [
        "training.cnn_losses.FocalLoss", "training.optimizers.get_lr", "training.optimizers.set_lr",
        "training.cnn_losses.test_losses",
    ]
    assert all(w["deprecation"] and w["legacy"] and w["cat"] == "LegacyImportWarning" for w in result)
    focal, get_lr, _, test_losses = (w["msg"] for w in result)
    assert "`from pfdtrain.losses import FocalLoss` (adapted API)" in focal
    assert "`from pfdtrain.compat.cnn_losses import FocalLoss`" in focal
    assert "`from pfdtrain.optim import get_lr` (same API)" in get_lr
    assert "removed" in test_losses
    # stacklevel: the warning points at the user's import line, not at the shim machinery
    assert all(w["file"].startswith(str(tmp_path)) for w in result), [w["file"] for w in result]


def test_warning_is_shown_by_default_for_a_script(run_py, tmp_path):
    script = tmp_path / "legacy_script.py"
    script.write_text("import legacy_shims._install\nfrom training.optimizers import get_lr\n", encoding="utf-8")
    proc = run_py.run_file(script)
    assert proc.returncode == 0, proc.stderr
    assert f"{script}:2: LegacyImportWarning: training.optimizers.get_lr is a legacy import" in proc.stderr
    assert proc.stderr.count("LegacyImportWarning") == 1


def test_warnings_as_errors_fail_every_time_not_just_once(run_py):
    result = run_py("""
        import legacy_shims._install
        warnings.simplefilter("error", DeprecationWarning)
        out = []
        for _ in range(2):
            try:
                from training.optimizers import get_lr
                out.append("imported")
            except DeprecationWarning as exc:
                out.append(type(exc).__name__)
        warnings.simplefilter("ignore")
        from training.optimizers import get_lr
        report(out + [get_lr.__module__])
    """)
    assert result == ["LegacyImportWarning", "LegacyImportWarning", "pfdtrain.compat.optimizers"]


def test_first_warning_of_the_old_create_optimizer_call_is_a_deprecation_warning(run_py):
    # tests/utilities/test_bug_fixes.py in LSTM-PFD checks exactly this, importing inside the block.
    result = run_py("""
        import legacy_shims._install
        import torch
        model = torch.nn.Linear(2, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from packages.core.training.optimizers import create_optimizer
            optimizer = create_optimizer(model.parameters(), "adam")
        report({"cats": [(w.category.__name__, issubclass(w.category, DeprecationWarning)) for w in caught],
                "optimizer": type(optimizer).__name__})
    """)
    assert result["optimizer"] == "Adam"
    assert result["cats"][0] == ["LegacyImportWarning", True]
    assert all(is_deprecation for _, is_deprecation in result["cats"]), result["cats"]
    assert ["DeprecationWarning", True] in result["cats"]  # the legacy call's own warning is kept


def test_names_that_never_existed_raise_import_error_naming_the_replacement(run_py):
    cases = []
    for name in NEVER_EXISTED:
        for prefix in ("training", "packages.core.training"):
            spelled = prefix + name[len("training"):]
            module, _, attr = spelled.rpartition(".")
            cases.append((module, attr))
    result = run_py(f"""
        import legacy_shims._install
        from pfdtrain.errors import LegacyImportError
        out = []
        for module, attr in {cases!r}:
            try:
                exec(f"from {{module}} import {{attr}}", {{}})
            except ImportError as exc:
                out.append([module + "." + attr, type(exc).__name__, isinstance(exc, LegacyImportError), str(exc)])
            else:
                out.append([module + "." + attr, None, False, ""])
        report(out)
    """)
    assert len(result) == 2 * len(NEVER_EXISTED)
    for spelled, error, is_legacy_error, message in result:
        assert error == "LegacyImportError" and is_legacy_error, spelled
        assert message.startswith(f"{spelled} never existed"), message
    messages = {spelled: message for spelled, _, _, message in result}
    msg = messages["training.losses.create_loss_function"]
    assert "`from pfdtrain.losses import create_loss`" in msg
    assert "`from training.cnn_losses import create_criterion`" in msg
    assert "`from pfdtrain import Trainer`" in messages["packages.core.training.Trainer"]


def test_package_level_class_names_point_at_their_module(run_py):
    result = run_py("""
        import legacy_shims._install
        try:
            from training import CNNTrainer
        except ImportError as exc:
            report([type(exc).__name__, str(exc)])
    """)
    assert result[0] == "LegacyImportError"
    assert "exported nothing" in result[1]
    assert "`from training.cnn_trainer import CNNTrainer` (legacy" in result[1]
    assert "`from pfdtrain import Trainer`" in result[1]


def test_unrelated_names_fail_like_normal_imports(run_py):
    result = run_py("""
        import legacy_shims._install
        out = {}
        for stmt in ["import training.foo", "import packages.core.foo", "import packages.foo",
                     "import training.lstm_trainer", "from training import foo",
                     "from training.cnn_losses import FocalLos", "import training.cnn_losses.sub",
                     "import trainingx", "import packagesx"]:
            try:
                exec(stmt, {})
                out[stmt] = None
            except ImportError as exc:
                out[stmt] = [type(exc).__name__, str(exc)]
        import training.cnn_losses as t
        try:
            t.FocalLos
        except AttributeError as exc:
            out["attr"] = str(exc)
        report(out)
    """)
    assert result["import training.foo"] == ["ModuleNotFoundError", "No module named 'training.foo'"]
    assert result["import packages.core.foo"] == ["ModuleNotFoundError", "No module named 'packages.core.foo'"]
    assert result["import packages.foo"] == ["ModuleNotFoundError", "No module named 'packages.foo'"]
    assert result["import training.lstm_trainer"][0] == "ModuleNotFoundError"  # milestone-only module
    assert result["from training import foo"][0] == "ImportError"
    assert result["from training.cnn_losses import FocalLos"][0] == "ImportError"
    assert result["import training.cnn_losses.sub"][0] == "ModuleNotFoundError"
    assert result["import trainingx"][0] == "ModuleNotFoundError"
    assert result["import packagesx"][0] == "ModuleNotFoundError"
    assert "did you mean training.cnn_losses.FocalLoss" in result["attr"]


def test_disable_env_var_makes_the_finder_inert(run_py):
    result = run_py("""
        import legacy_shims._install
        out = {}
        for stmt in ["import training", "import training.cnn_losses", "import packages.core.training.cnn_losses"]:
            try:
                exec(stmt, {})
                out[stmt] = None
            except ModuleNotFoundError as exc:
                out[stmt] = str(exc)
        report({"out": out, "last": type(sys.meta_path[-1]).__name__})
    """, env={"PFDTRAIN_DISABLE_SHIMS": "1"})
    assert result["last"] == "LegacyFinder"  # installed, but answers nothing
    assert result["out"] == {
        "import training": "No module named 'training'",
        "import training.cnn_losses": "No module named 'training'",
        "import packages.core.training.cnn_losses": "No module named 'packages'",
    }


def test_install_appends_once_at_the_end_and_imports_nothing_heavy(run_py):
    result = run_py("""
        # start from an interpreter without the shims, even where the .pth already installed them
        sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "LegacyFinder"]
        for name in [m for m in sys.modules if m == "legacy_shims" or m.startswith("legacy_shims.")]:
            del sys.modules[name]
        before = set(sys.modules)
        import legacy_shims._install
        import legacy_shims
        legacy_shims.install()
        legacy_shims.install()
        added = sorted(set(sys.modules) - before)
        finders = [type(f).__name__ for f in sys.meta_path]
        report({"added": added, "last": finders[-1], "count": finders.count("LegacyFinder")})
    """)
    assert result["last"] == "LegacyFinder" and result["count"] == 1
    assert result["added"] == ["legacy_shims", "legacy_shims._install", "legacy_shims.finder"]
