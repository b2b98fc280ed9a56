"""Every module-level name of the legacy modules (their imports, constants and logger) is served,
in both spellings; patching one through the legacy name reaches the adapter and is undone with
the patch; only legacy-specific names warn; ``python -m training.<module>`` runs legacy's
``__main__`` block. Each test runs in a fresh interpreter (conftest.run_py)."""

from __future__ import annotations

from pfdtrain.legacy_map import LEGACY_MODULES, MODULE_GLOBALS, module_global


def test_every_module_global_resolves_in_both_spellings_to_the_compat_global(run_py):
    names = [(m, g.name) for m in LEGACY_MODULES for g in MODULE_GLOBALS[m]]
    result = run_py(f"""
        import importlib
        import legacy_shims._install
        warnings.simplefilter("ignore")
        failures = []
        for module, name in {names!r}:
            try:
                compat = importlib.import_module("pfdtrain.compat." + module)
                for prefix in ("training.", "packages.core.training."):
                    value = getattr(importlib.import_module(prefix + module), name)
                    if name != "logger" and value is not getattr(compat, name):
                        failures.append(prefix + module + "." + name)
            except Exception as exc:
                failures.append(f"{{module}}.{{name}}: {{type(exc).__name__}}: {{exc}}")
        report(failures)
    """)
    assert result == []


def test_library_imports_are_the_librarys_own_objects(run_py):
    result = run_py("""
        import legacy_shims._install
        import pathlib, time, typing, collections, numpy, torch, tqdm, optuna, scipy.stats
        import torch.nn.functional
        import training.cnn_trainer as ct, training.metrics as m, training.cnn_callbacks as cb
        import training.optimizers as op, training.random_search as rs, training.bayesian_optimizer as bo
        import training.advanced_augmentation as aa, training.transformer_schedulers as ts
        report({
            "cnn_trainer": [ct.torch is torch, ct.nn is torch.nn, ct.np is numpy, ct.time is time,
                            ct.Path is pathlib.Path, ct.tqdm is tqdm.tqdm, ct.Optional is typing.Optional,
                            ct.Dict is typing.Dict, ct.DataLoader is torch.utils.data.DataLoader],
            "others": [cb.defaultdict is collections.defaultdict, op.StepLR is torch.optim.lr_scheduler.StepLR,
                       op.AdamW is torch.optim.AdamW, rs.uniform is scipy.stats.uniform, bo.optuna is optuna,
                       bo.TPESampler is optuna.samplers.TPESampler, aa.F is torch.nn.functional,
                       ts._LRScheduler is torch.optim.lr_scheduler._LRScheduler],
            "constants": [m.NUM_CLASSES, m.SIGNAL_LENGTH],
            "amp": [issubclass(ct.GradScaler, torch.amp.GradScaler), issubclass(ct.autocast, torch.amp.autocast)],
        })
    """)
    assert all(result["cnn_trainer"]) and all(result["others"]) and all(result["amp"])
    assert result["constants"] == [11, 102400]


def test_each_module_has_a_logger_named_as_spelled(run_py):
    result = run_py(f"""
        import importlib, logging
        import legacy_shims._install
        warnings.simplefilter("ignore")
        out = {{}}
        for m in {list(LEGACY_MODULES)!r}:
            a = importlib.import_module("training." + m).logger
            b = importlib.import_module("packages.core.training." + m).logger
            out[m] = [isinstance(a, logging.Logger), a.name, isinstance(b, logging.Logger), b.name]
        report(out)
    """)
    for m in LEGACY_MODULES:
        assert result[m] == [True, f"training.{m}", True, f"packages.core.training.{m}"]


def test_a_client_using_training_callbacks_logger(run_py):
    result = run_py("""
        import logging
        import legacy_shims._install
        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append((record.name, record.getMessage()))
        from training.callbacks import EarlyStopping, logger
        logger.addHandler(Keep()); logger.setLevel(logging.INFO)
        stopper = EarlyStopping(patience=1, verbose=False)
        logger.info("patience %d", stopper.patience)
        import training.callbacks
        report({"records": records, "same": training.callbacks.logger is logger})
    """)
    assert result == {"records": [["training.callbacks", "patience 1"]], "same": True}


def test_patching_tqdm_time_and_logger_reaches_cnn_trainer_and_is_undone(run_py):
    result = run_py("""
        from unittest import mock
        import logging
        import legacy_shims._install
        warnings.simplefilter("ignore")
        import torch
        from torch import nn
        from training.cnn_trainer import CNNTrainer
        import pfdtrain.compat.cnn_trainer as compat
        loader = [(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]))] * 2
        model = nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        bars = []
        def fake_tqdm(iterable, **kwargs):
            bars.append(kwargs.get("desc"))
            return iterable
        out = {}
        for spelling in ("training.cnn_trainer", "packages.core.training.cnn_trainer"):
            bars.clear()
            with mock.patch(spelling + ".tqdm", side_effect=fake_tqdm), \\
                    mock.patch(spelling + ".time") as fake_time, mock.patch(spelling + ".logger") as fake_logger:
                fake_time.time.side_effect = [10.0, 12.5]
                trainer = CNNTrainer(model, loader, val_loader=loader, optimizer=opt, device="cpu",
                                     mixed_precision=False)
                trainer.fit(1, verbose=True)
            infos = [c.args[0] for c in fake_logger.info.call_args_list]
            out[spelling] = {"bars": list(bars), "timed": any("(2.5s)" in m for m in infos),
                             "restored": [compat.tqdm.__module__, compat.time.__name__, compat.logger.name]}
        report(out)
    """)
    for spelling in ("training.cnn_trainer", "packages.core.training.cnn_trainer"):
        assert result[spelling] == {"bars": ["Epoch 1 [Train]", "Epoch 1 [Val]"], "timed": True,
                                    "restored": ["tqdm.std", "time", "training.cnn_trainer"]}


def test_patching_library_names_reaches_the_other_adapters(run_py):
    result = run_py("""
        from unittest import mock
        import legacy_shims._install
        warnings.simplefilter("ignore")
        import torch
        from training.metrics import compute_f1_score
        from training.cnn_schedulers import create_step_scheduler
        from training.optimizers import create_scheduler
        from training.cnn_optimizer import create_sgd_optimizer
        logits, targets = torch.eye(3), torch.tensor([0, 1, 2])
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
        with mock.patch("training.metrics.f1_score", return_value="patched") as f1:
            f1_out = compute_f1_score(logits, targets, average="micro")
        with mock.patch("packages.core.training.cnn_schedulers.StepLR") as step:
            create_step_scheduler(opt, step_size=3)
        with mock.patch("training.optimizers.CosineAnnealingLR") as cosine:
            create_scheduler(opt, "cosine", 7)
        with mock.patch("training.cnn_optimizer.optim") as optim:
            create_sgd_optimizer([torch.nn.Parameter(torch.zeros(1))])
        report({"f1": [f1_out, f1.call_args.kwargs],
                "step": step.call_args.kwargs, "cosine": cosine.call_args.kwargs,
                "sgd": sorted(optim.SGD.call_args.kwargs),
                "after": compute_f1_score(logits, targets, average="micro")})
    """)
    assert result["f1"] == ["patched", {"average": "micro", "zero_division": 0}]
    assert result["step"] == {"step_size": 3, "gamma": 0.1, "last_epoch": -1}
    assert result["cosine"] == {"T_max": 7, "eta_min": 1e-6}
    assert result["sgd"] == ["lr", "momentum", "nesterov", "params", "weight_decay"]
    assert result["after"] == 1.0


def test_only_legacy_specific_names_warn(run_py):
    result = run_py("""
        import legacy_shims._install
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            from training.cnn_trainer import torch, np, tqdm, Optional, time, GradScaler
            from packages.core.training.metrics import f1_score, Dict
        quiet = len(caught)
        with warnings.catch_warnings(record=True) as caught:
            from training.cnn_losses import NUM_CLASSES
            from training.cnn_trainer import logger, create_criterion
            from training.cnn_losses import NUM_CLASSES as again
        report({"quiet": quiet, "warned": [str(w.message).split(" is a legacy")[0] for w in caught],
                "category": sorted({w.category.__name__ for w in caught})})
    """)
    assert result["quiet"] == 0
    assert result["warned"] == ["training.cnn_losses.NUM_CLASSES", "training.cnn_trainer.logger",
                                "training.cnn_trainer.create_criterion"]
    assert result["category"] == ["LegacyImportWarning"]


def test_star_import_gives_the_legacy_globals(run_py):
    result = run_py("""
        import legacy_shims._install
        warnings.simplefilter("ignore")
        ns = {}
        exec("from training.cnn_callbacks import *", ns)
        report(sorted(k for k in ("torch", "nn", "Path", "time", "json", "logger", "CallbackList",
                                  "test_callbacks", "_private") if k in ns))
    """)
    assert result == ["CallbackList", "Path", "json", "logger", "nn", "test_callbacks", "time", "torch"]


def test_python_m_runs_the_legacy_main_block(run_py):
    # runpy.run_module(..., run_name="__main__") is what `python -m training.cnn_losses` does
    result = run_py("""
        import contextlib, io, runpy
        import legacy_shims._install
        warnings.simplefilter("ignore")
        out = {}
        for module in ("training.cnn_losses", "packages.core.training.callbacks"):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                runpy.run_module(module, run_name="__main__", alter_sys=True)
            out[module] = buffer.getvalue().splitlines()
        report(out)
    """)
    lines = result["training.cnn_losses"]
    assert lines[:3] == ["=" * 60, "Testing CNN Loss Functions", "=" * 60]
    assert "✅ All loss function tests passed!" in lines
    assert result["packages.core.training.callbacks"] == []  # legacy had no __main__ block there


def test_module_global_lookup_is_for_module_globals_only():
    assert module_global("packages.core.training.cnn_trainer.tqdm").origin == "tqdm.tqdm"
    assert module_global("training.pinn_trainer.Trainer").kind == "reexport"
    assert module_global("training.cnn_trainer.CNNTrainer") is None  # an API name: by_legacy's
