"""The legacy self-test functions run as smoke tests, and every adapter exports its legacy names."""

import importlib
import os
import subprocess
import sys

import pytest

LEGACY_NAMES = {
    "losses": ["FocalLoss", "LabelSmoothingCrossEntropy", "PhysicsInformedLoss", "compute_class_weights"],
    "cnn_losses": ["LabelSmoothingCrossEntropy", "FocalLoss", "SupConLoss", "create_criterion", "test_losses"],
    "physics_loss_functions": ["FrequencyConsistencyLoss", "SpectralDistanceLoss", "SommerfeldConsistencyLoss",
                               "TemporalSmoothnessLoss", "PhysicalConstraintLoss", "frequency_consistency_loss",
                               "sommerfeld_consistency_loss", "temporal_smoothness_loss"],
    "knowledge_distillation": ["DistillationLoss", "compare_teacher_student"],
    "optimizers": ["create_optimizer", "create_scheduler", "get_lr", "set_lr"],
    "cnn_optimizer": ["create_adamw_optimizer", "create_sgd_optimizer", "create_rmsprop_optimizer",
                      "create_optimizer", "OptimizerConfig", "get_parameter_groups", "test_optimizers"],
    "cnn_schedulers": ["create_cosine_scheduler", "create_cosine_warmrestarts_scheduler", "create_onecycle_scheduler",
                       "create_step_scheduler", "create_exponential_scheduler", "create_plateau_scheduler",
                       "WarmupScheduler", "PolynomialLRScheduler", "test_schedulers"],
    "transformer_schedulers": ["create_warmup_cosine_schedule", "create_warmup_linear_schedule",
                               "create_noam_schedule", "WarmupCosineScheduler", "get_scheduler"],
    "metrics": ["MetricsTracker", "compute_accuracy", "compute_f1_score", "compute_confusion_matrix",
                "compute_top_k_accuracy", "compute_per_class_metrics"],
    "advanced_augmentation": ["cutmix", "cutmix_batch", "adversarial_augmentation", "time_masking",
                              "gaussian_noise_augmentation", "amplitude_scaling", "time_shift", "AutoAugment",
                              "MixupAugmentation", "CompositeAugmentation"],
    "transformer_augmentation": ["patch_dropout", "patch_mixup", "temporal_shift_patches", "patch_cutout",
                                 "patch_permutation", "patch_jitter", "PatchAugmentation", "get_light_augmentation",
                                 "get_medium_augmentation", "get_heavy_augmentation"],
}


@pytest.mark.parametrize("module", sorted(LEGACY_NAMES))
def test_adapter_exports_legacy_names(module):
    adapter = importlib.import_module(f"pfdtrain.compat.{module}")
    missing = [n for n in LEGACY_NAMES[module] if not hasattr(adapter, n)]
    assert not missing
    assert set(LEGACY_NAMES[module]) <= set(adapter.__all__)


@pytest.mark.parametrize(("module", "function"), [("cnn_losses", "test_losses"), ("cnn_optimizer", "test_optimizers"),
                                             ("cnn_callbacks", "test_callbacks")])
def test_legacy_self_tests_run(module, function, capsys):
    getattr(importlib.import_module(f"pfdtrain.compat.{module}"), function)()
    assert "tests passed!" in capsys.readouterr().out


def test_scheduler_self_test_fails_at_the_plateau_step_like_legacy(capsys):
    # legacy create_plateau_scheduler passes verbose=True, which torch 2.13 rejects
    from pfdtrain.compat.cnn_schedulers import test_schedulers

    # the self-test steps its schedulers without an optimizer step, as legacy's did: torch warns
    with pytest.raises(TypeError, match="verbose"), pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
        test_schedulers()
    out = capsys.readouterr().out
    assert "5. Testing Exponential Decay..." in out and out.rstrip().endswith("6. Testing ReduceLROnPlateau...")


def test_compat_package_imports_nothing_eagerly():
    code = "import sys, pfdtrain.compat; print(sorted(m for m in sys.modules if m.startswith(('pfdtrain.', 'torch'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout
    # pfdtrain/__init__ reads only its version string; nothing heavy (no torch) may load
    assert out.strip() == "['pfdtrain._lazy', 'pfdtrain._version', 'pfdtrain.compat']"
