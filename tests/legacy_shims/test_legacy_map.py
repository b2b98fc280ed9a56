"""The mapping table itself: complete, consistent, and in agreement with the golden data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pfdtrain import legacy_map
from pfdtrain.legacy_map import LEGACY_MODULES, NEVER_EXISTED, TABLE

ROOT = Path(__file__).resolve().parents[2]

# legacy-api.md section 1: every module with its public names (what the table must cover).
SPEC_NAMES = {
    "trainer": {"TrainingState", "Trainer"},
    "callbacks": {"Callback", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "TensorBoardLogger",
                  "MLflowLogger", "ProgressPrinter"},
    "cnn_callbacks": {"Callback", "CallbackList", "LearningRateMonitor", "GradientMonitor", "ModelCheckpointCallback",
                      "TimingCallback", "MetricLogger", "EarlyStoppingCallback", "test_callbacks"},
    "cnn_trainer": {"CNNTrainer", "test_cnn_trainer"},
    "pinn_trainer": {"PINNTrainingState", "PINNTrainer"},
    "spectrogram_trainer": {"SpectrogramTrainer", "MultiTFRTrainer"},
    "mixed_precision": {"MixedPrecisionTrainer", "enable_mixed_precision", "check_mixed_precision_support"},
    "progressive_resizing": {"ResizableSignalDataset", "resize_signal", "ProgressiveResizingTrainer"},
    "knowledge_distillation": {"DistillationLoss", "DistillationTrainer", "compare_teacher_student"},
    "losses": {"FocalLoss", "LabelSmoothingCrossEntropy", "PhysicsInformedLoss", "compute_class_weights"},
    "cnn_losses": {"LabelSmoothingCrossEntropy", "FocalLoss", "SupConLoss", "create_criterion", "test_losses"},
    "physics_loss_functions": {"FrequencyConsistencyLoss", "SpectralDistanceLoss", "SommerfeldConsistencyLoss",
                               "TemporalSmoothnessLoss", "PhysicalConstraintLoss", "frequency_consistency_loss",
                               "sommerfeld_consistency_loss", "temporal_smoothness_loss"},
    "optimizers": {"create_optimizer", "create_scheduler", "get_lr", "set_lr"},
    "cnn_optimizer": {"create_adamw_optimizer", "create_sgd_optimizer", "create_rmsprop_optimizer", "create_optimizer",
                      "OptimizerConfig", "get_parameter_groups", "test_optimizers"},
    "cnn_schedulers": {"create_cosine_scheduler", "create_cosine_warmrestarts_scheduler", "create_onecycle_scheduler",
                       "create_step_scheduler", "create_exponential_scheduler", "create_plateau_scheduler",
                       "WarmupScheduler", "PolynomialLRScheduler", "test_schedulers"},
    "transformer_schedulers": {"create_warmup_cosine_schedule", "WarmupCosineScheduler",
                               "create_warmup_linear_schedule", "create_noam_schedule", "get_scheduler"},
    "metrics": {"MetricsTracker", "compute_accuracy", "compute_f1_score", "compute_confusion_matrix",
                "compute_top_k_accuracy", "compute_per_class_metrics"},
    "advanced_augmentation": {"cutmix", "cutmix_batch", "adversarial_augmentation", "time_masking",
                              "gaussian_noise_augmentation", "amplitude_scaling", "time_shift", "AutoAugment",
                              "MixupAugmentation", "CompositeAugmentation"},
    "transformer_augmentation": {"patch_dropout", "patch_mixup", "temporal_shift_patches", "patch_cutout",
                                 "patch_permutation", "patch_jitter", "PatchAugmentation", "get_light_augmentation",
                                 "get_medium_augmentation", "get_heavy_augmentation"},
    "grid_search": {"GridSearchOptimizer", "get_default_param_grid"},
    "random_search": {"RandomSearchOptimizer", "get_default_param_distributions"},
    "bayesian_optimizer": {"BayesianOptimizer"},
}


def test_every_legacy_module_and_public_name_has_exactly_one_entry():
    assert set(LEGACY_MODULES) == set(SPEC_NAMES) and len(LEGACY_MODULES) == 22  # + __init__ = 23 files
    legacy = [entry.legacy for entry in TABLE]
    assert len(legacy) == len(set(legacy)), "duplicate legacy names"
    table = {m: {e.name for e in legacy_map.module_entries(m)} for m in LEGACY_MODULES}
    assert table == SPEC_NAMES


def test_every_name_the_golden_data_calls_is_in_the_table():
    found = set()
    for path in (ROOT / "golden").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".md"):
            text = path.read_text(encoding="utf-8", errors="replace")
            found.update(re.findall(r"\btraining\.([a-z_]+)\.([A-Za-z_][A-Za-z0-9_]*)", text))
    assert len(found) > 80, "golden data not found or unreadable"
    missing = sorted(f"training.{m}.{n}" for m, n in found if legacy_map.by_legacy(f"training.{m}.{n}") is None)
    assert missing == []


def test_entries_are_well_formed():
    for entry in TABLE:
        assert entry.legacy == f"training.{entry.module}.{entry.name}"
        assert entry.compat == f"pfdtrain.compat.{entry.module}.{entry.name}", entry
        assert entry.status in ("same", "adapted", "removed"), entry
        assert (entry.new is None) == (entry.status == "removed"), entry
        if entry.new is not None:
            assert entry.new.startswith("pfdtrain.") and not entry.new.startswith("pfdtrain.compat."), entry
            assert entry.new_import.startswith("from pfdtrain")
            assert entry.new_import.endswith(f" import {entry.new.rsplit('.', 1)[1]}")


def test_both_spellings_map_to_the_same_entry():
    entry = legacy_map.by_legacy("training.cnn_losses.FocalLoss")
    assert entry is legacy_map.by_legacy("packages.core.training.cnn_losses.FocalLoss")
    assert entry.spellings() == ("training.cnn_losses.FocalLoss", "packages.core.training.cnn_losses.FocalLoss")
    assert legacy_map.module_entries("packages.core.training.cnn_losses") == legacy_map.module_entries("cnn_losses")
    assert legacy_map.compat_module("training.optimizers") == "pfdtrain.compat.optimizers"
    assert legacy_map.canonical("packages.core.trainingX.y") == "packages.core.trainingX.y"
    assert legacy_map.by_legacy("training.cnn_losses.torch") is None
    with pytest.raises(KeyError):
        legacy_map.compat_module("training.lstm_trainer")


def test_never_existed_names_are_not_in_the_table_and_point_at_real_names():
    assert "training.losses.create_loss_function" in NEVER_EXISTED
    assert "training.Trainer" in NEVER_EXISTED  # docs: packages.core.training.Trainer
    core_targets = {e.new for e in TABLE if e.new}
    for name, replacements in NEVER_EXISTED.items():
        assert legacy_map.by_legacy(name) is None, name
        assert replacements, name
        for r in replacements:
            assert legacy_map.by_legacy(r) is not None or r in core_targets, (name, r)
    assert legacy_map.closest("packages.core.training.losses.create_loss_function") == (
        "pfdtrain.losses.create_loss", "training.cnn_losses.create_criterion")


def test_closest_suggests_table_names():
    assert legacy_map.closest("training.cnn_losses.FocalLos")[0] == "training.cnn_losses.FocalLoss"
    assert "training.cnn_trainer.CNNTrainer" in legacy_map.closest("training.CNNTrainer")


def test_describe_names_the_new_import_and_the_api_status():
    text = legacy_map.describe(legacy_map.by_legacy("training.cnn_losses.FocalLoss"))
    assert "`from pfdtrain.losses import FocalLoss`" in text and "adapted API" in text
    assert "`from pfdtrain.compat.cnn_losses import FocalLoss`" in text
    assert "same API" in legacy_map.describe(legacy_map.by_legacy("training.optimizers.get_lr"))
    assert "removed" in legacy_map.describe(legacy_map.by_legacy("training.cnn_losses.test_losses"))


def test_warning_and_error_classes_are_public():
    import pfdtrain
    from pfdtrain.errors import PfdtrainError

    assert issubclass(pfdtrain.LegacyImportWarning, DeprecationWarning)
    assert issubclass(pfdtrain.LegacyImportError, ImportError) and issubclass(pfdtrain.LegacyImportError, PfdtrainError)


def test_module_globals_are_well_formed_and_apart_from_the_api():
    from pfdtrain.legacy_map import MODULE_GLOBALS, describe_global, module_global

    assert set(MODULE_GLOBALS) == set(LEGACY_MODULES)
    api = {entry.legacy for entry in TABLE}
    for module, entries in MODULE_GLOBALS.items():
        names = [g.name for g in entries]
        assert len(names) == len(set(names)) and names[-1] == "logger", module
        for g in entries:
            assert g.legacy == f"training.{module}.{g.name}" and g.legacy not in api
            assert g.compat == f"pfdtrain.compat.{module}.{g.name}"
            assert module_global(g.spellings()[1]) is g
            assert g.warns == (g.kind != "import") and describe_global(g)
    # spot checks from the legacy module map (legacy-api.md 0, 6.1)
    spot = {"cnn_trainer": {"tqdm", "time", "GradScaler", "autocast", "create_criterion", "Path", "np"},
            "metrics": {"f1_score", "precision_score", "recall_score", "accuracy_score", "sklearn_confusion_matrix"},
            "grid_search": {"GridSearchCV", "BaseEstimator"}, "bayesian_optimizer": {"optuna", "TPESampler"},
            "cnn_schedulers": {"_LRScheduler", "StepLR", "get_logger"}, "pinn_trainer": {"Trainer", "tqdm"}}
    for module, names in spot.items():
        assert names <= {g.name for g in MODULE_GLOBALS[module]}, module
    kinds = {g.name: g.kind for g in MODULE_GLOBALS["pinn_trainer"]}
    assert (kinds["Trainer"], kinds["NUM_CLASSES"], kinds["tqdm"], kinds["logger"]) == (
        "reexport", "constant", "import", "logger")
