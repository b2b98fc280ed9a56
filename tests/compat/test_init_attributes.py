"""Every adapter class's attributes right after construction are legacy's: names, values, types
(``Path`` where legacy made one, the caller's own objects where legacy kept them) for the default
arguments and for the arguments whose handling differs (``x or default`` vs ``x is None``).

Expected values are the legacy constructors' (legacy-api.md and the legacy source), written out
here by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from pfdtrain.compat import (
    advanced_augmentation,
    bayesian_optimizer,
    callbacks,
    cnn_callbacks,
    cnn_losses,
    cnn_schedulers,
    cnn_trainer,
    grid_search,
    knowledge_distillation,
    losses,
    metrics,
    mixed_precision,
    physics_loss_functions,
    pinn_trainer,
    progressive_resizing,
    random_search,
    spectrogram_trainer,
    trainer,
    transformer_augmentation,
    transformer_schedulers,
)

INF = math.inf


def is_a(cls):
    return lambda value: isinstance(value, cls)


def _model():
    return nn.Linear(4, 3)


def _optimizer():
    return torch.optim.SGD(_model().parameters(), lr=0.1)


LOADER = [(torch.zeros(2, 4), torch.tensor([0, 1]))]
HISTORY_KEYS = ["train_loss", "val_loss", "train_acc", "val_acc"]


def public(obj) -> dict:
    return {k: v for k, v in vars(obj).items() if not k.startswith("_") and k != "training"}


def check(obj, expected: dict) -> None:
    attrs = public(obj)
    missing = [name for name in expected if name not in attrs]
    assert not missing, f"{type(obj).__name__} lacks {missing}"
    for name, want in expected.items():
        got = attrs[name]
        if callable(want) and not isinstance(want, type):
            assert want(got), (type(obj).__name__, name, got)
        else:
            assert type(got) is type(want) and got == want, (type(obj).__name__, name, got, want)
    order = [name for name in attrs if name in expected]
    assert order == [name for name in expected if name in order]  # legacy assignment order


def test_old_api_callbacks(tmp_path):
    check(callbacks.EarlyStopping(), {"monitor": "val_loss", "patience": 10, "mode": "min", "min_delta": 0.0,
                                      "verbose": True, "best_value": INF, "counter": 0, "stopped_epoch": 0})
    assert callbacks.EarlyStopping(mode="max").best_value == -INF
    check(callbacks.ModelCheckpoint("ck/m.pth"), {"filepath": Path("ck/m.pth"), "monitor": "val_loss", "mode": "min",
                                                  "save_best_only": True, "verbose": True, "best_value": INF})
    scheduler = object()
    check(callbacks.LearningRateScheduler(scheduler), {"scheduler": lambda v: v is scheduler, "verbose": True})
    check(callbacks.TensorBoardLogger(), {"log_dir": Path("runs"), "writer": None})
    check(callbacks.MLflowLogger(), {"experiment_name": "bearing_fault_diagnosis", "run_name": None, "mlflow": None,
                                     "run": None})


def test_new_api_callbacks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model, optimizer = _model(), _optimizer()
    check(cnn_callbacks.LearningRateMonitor(optimizer), {"optimizer": lambda v: v is optimizer, "log_interval": 1,
                                                         "verbose": True, "lr_history": []})
    check(cnn_callbacks.GradientMonitor(model), {"model": lambda v: v is model, "log_interval": 100, "norm_type": 2.0,
                                                 "alert_threshold": 10.0, "gradient_norms": [], "batch_count": 0})
    check(cnn_callbacks.ModelCheckpointCallback("ckpts", model),
          {"checkpoint_dir": Path("ckpts"), "model": lambda v: v is model, "optimizer": None, "monitor": "val_acc",
           "mode": "max", "save_best_only": True, "verbose": True, "best_metric": -INF})
    assert cnn_callbacks.ModelCheckpointCallback("ckpts", model, mode="min").best_metric == INF
    check(cnn_callbacks.TimingCallback(), {"verbose": True, "epoch_start_time": None, "batch_start_time": None,
                                           "epoch_times": [], "batch_times": []})
    check(cnn_callbacks.MetricLogger("logs/m.json"), {"log_file": Path("logs/m.json"), "log_interval": 1,
                                                      "metrics_history": []})
    check(cnn_callbacks.EarlyStoppingCallback(), {"monitor": "val_loss", "patience": 10, "mode": "min",
                                                  "min_delta": 0.0, "verbose": True, "best_metric": INF, "counter": 0,
                                                  "should_stop": False})
    mine = [cnn_callbacks.TimingCallback()]
    assert cnn_callbacks.CallbackList(mine).callbacks is mine  # the caller's list, not a copy
    with pytest.raises(TypeError):
        cnn_callbacks.CallbackList()  # callbacks is required


def test_losses():
    for module in (cnn_losses, losses):
        check(module.LabelSmoothingCrossEntropy(), {"smoothing": 0.1, "reduction": "mean"})
        check(module.FocalLoss(), {"alpha": None, "gamma": 2.0, "reduction": "mean"})
    check(cnn_losses.SupConLoss(), {"temperature": 0.1, "base_temperature": 0.07})
    check(losses.PhysicsInformedLoss(), {"data_weight": 1.0, "physics_weight": 0.1})
    assert isinstance(losses.PhysicsInformedLoss().ce_loss, nn.CrossEntropyLoss)
    check(knowledge_distillation.DistillationLoss(), {"temperature": 4.0, "alpha": 0.7,
                                                      "hard_loss_type": "cross_entropy"})


def test_physics_losses():
    freq = physics_loss_functions.FrequencyConsistencyLoss()
    check(freq, {"sample_rate": 20480, "n_fft": 2048, "top_k": 5, "tolerance": 0.1})
    assert type(freq.signature_db).__name__ == "FaultSignatureDatabase"
    assert type(freq.bearing_dynamics).__name__ == "BearingDynamics"
    assert freq.bearing_dynamics.params == {"n_balls": 9, "ball_diameter": 7.94, "pitch_diameter": 39.04,
                                            "contact_angle": 0.0, "shaft_radius": 15.0, "radial_clearance": 20.0}
    assert type(physics_loss_functions.SommerfeldConsistencyLoss().bearing_dynamics).__name__ == "BearingDynamics"
    check(physics_loss_functions.TemporalSmoothnessLoss(), {"smoothness_weight": 1.0})
    constraint = physics_loss_functions.PhysicalConstraintLoss()
    check(constraint, {"lambda_freq": 1.0, "lambda_sommerfeld": 0.5, "lambda_temporal": 0.1})
    assert constraint.freq_loss.sample_rate == 20480
    spectral = physics_loss_functions.SpectralDistanceLoss()
    check(spectral, {"sample_rate": 20480, "n_fft": 2048})
    assert type(spectral.signature_db).__name__ == "FaultSignatureDatabase"


def test_schedulers():
    optimizer = _optimizer()
    base = torch.optim.lr_scheduler.StepLR(optimizer, 1)
    check(cnn_schedulers.WarmupScheduler(optimizer, 3, base),
          {"warmup_epochs": 3, "base_scheduler": lambda v: v is base})
    check(cnn_schedulers.PolynomialLRScheduler(_optimizer(), 10), {"total_epochs": 10, "power": 1.0, "end_lr": 1e-6})
    check(transformer_schedulers.WarmupCosineScheduler(_optimizer(), 2, 10),
          {"warmup_epochs": 2, "total_epochs": 10, "min_lr_ratio": 0.0})


def test_augmentations():
    auto = advanced_augmentation.AutoAugment()
    assert auto.policy == [[("gaussian_noise", 0.3, 0.01), ("amplitude_scale", 0.5, 0.1)],
                           [("time_shift", 0.5, 500), ("time_mask", 0.3, 1000)],
                           [("gaussian_noise", 0.5, 0.02), ("time_shift", 0.5, 1000)]]
    assert list(auto.operations) == ["gaussian_noise", "amplitude_scale", "time_shift", "time_mask"]
    assert all(callable(op) for op in auto.operations.values())
    mine = [[("time_shift", 1.0, 3)]]
    assert advanced_augmentation.AutoAugment(mine).policy is mine
    check(advanced_augmentation.MixupAugmentation(), {"alpha": 1.0})
    composite = advanced_augmentation.CompositeAugmentation()
    check(composite, {"use_cutmix": True, "use_mixup": False, "use_autoaugment": True, "cutmix_prob": 0.5,
                      "cutmix_alpha": 1.0, "autoaugment": is_a(advanced_augmentation.AutoAugment)})
    assert not hasattr(composite, "mixup")  # built only with use_mixup=True
    both = advanced_augmentation.CompositeAugmentation(use_mixup=True, use_autoaugment=False, mixup_alpha=0.3)
    assert both.mixup.alpha == 0.3 and not hasattr(both, "autoaugment")
    check(transformer_augmentation.PatchAugmentation(),
          {"use_dropout": True, "dropout_prob": 0.1, "use_cutout": False, "cutout_holes": 5, "cutout_size": 3,
           "use_shift": True, "max_shift": 3, "use_jitter": False, "jitter_std": 0.01, "use_permutation": False,
           "permute_prob": 0.05})


def test_search_and_metrics():
    check(grid_search.GridSearchOptimizer(), {"random_state": 42, "grid_search": None})
    check(random_search.RandomSearchOptimizer(), {"random_state": 42, "random_search": None})
    check(bayesian_optimizer.BayesianOptimizer(), {"random_state": 42, "study": None})
    check(metrics.MetricsTracker(), {"predictions": [], "targets": []})


def test_trainer_family():
    model = _model()
    check(trainer.TrainingState(), {"epoch": 0, "best_metric": INF, "best_epoch": 0, "patience_counter": 0,
                                    "history": {k: [] for k in HISTORY_KEYS}})
    base = {"model": lambda v: v is model, "train_loader": lambda v: v is LOADER, "val_loader": None,
            "optimizer": None, "criterion": is_a(nn.CrossEntropyLoss), "device": "cpu", "callbacks": [],
            "gradient_accumulation_steps": 1, "max_grad_norm": 1.0, "mixed_precision": False,
            "state": is_a(trainer.TrainingState), "scaler": None}
    check(trainer.Trainer(model, LOADER, device="cpu"), base)
    mine = [print]
    assert trainer.Trainer(model, LOADER, device="cpu", callbacks=mine).callbacks is mine
    amp = trainer.Trainer(model, LOADER, device="cpu", mixed_precision=True)
    assert isinstance(amp.scaler, torch.amp.GradScaler) and amp.mixed_precision is True

    check(pinn_trainer.PINNTrainer(model, LOADER, device="cpu"), {
        **base, "state": is_a(pinn_trainer.PINNTrainingState), "lambda_physics": 0.5, "lambda_freq": 1.0,
        "lambda_sommerfeld": 0.0, "lambda_temporal": 0.0, "adaptive_lambda": True, "lambda_schedule": "linear",
        "sample_rate": 20480, "metadata_keys": ["rpm", "load", "viscosity"], "current_lambda_physics": 0.0,
        "physics_loss_fn": is_a(physics_loss_functions.PhysicalConstraintLoss)})
    fixed = pinn_trainer.PINNTrainer(model, LOADER, device="cpu", adaptive_lambda=False, metadata_keys=[])
    assert fixed.current_lambda_physics == 0.5 and fixed.metadata_keys == ["rpm", "load", "viscosity"]
    assert list(pinn_trainer.PINNTrainingState().history) == [
        *HISTORY_KEYS, "train_physics_loss", "val_physics_loss", "train_freq_loss", "val_freq_loss",
        "train_total_loss", "val_total_loss"]

    check(spectrogram_trainer.SpectrogramTrainer(model, LOADER, device="cpu"), {
        **base, "use_specaugment": True, "time_mask_param": 40, "freq_mask_param": 20, "num_time_masks": 2,
        "num_freq_masks": 2})
    other = [(torch.zeros(2, 4), torch.tensor([1, 0]))]
    multi = spectrogram_trainer.MultiTFRTrainer(model, {"stft": LOADER, "cwt": other}, device="cpu")
    check(multi, {"train_loader": lambda v: v is LOADER, "val_loader": None, "train_loaders": {"stft": LOADER,
                                                                                                "cwt": other},
                  "val_loaders": {}, "tfr_weights": {"stft": 0.5, "cwt": 0.5}})
    empty_weights = spectrogram_trainer.MultiTFRTrainer(model, {"stft": LOADER}, val_loaders={}, tfr_weights={},
                                                        device="cpu")
    assert empty_weights.tfr_weights == {"stft": 1.0} and empty_weights.val_loaders == {}
    with pytest.raises(IndexError):
        spectrogram_trainer.MultiTFRTrainer(model, {}, device="cpu")

    mixed = mixed_precision.MixedPrecisionTrainer(model, LOADER, device="cpu")
    check(mixed, {**base, "mixed_precision": True, "scaler": is_a(torch.amp.GradScaler)})
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    assert mixed_precision.MixedPrecisionTrainer(model, LOADER, device="cpu", grad_scaler=scaler).scaler is scaler


def test_cnn_trainer(caplog):
    model = _model()
    expected = {"model": lambda v: v is model, "train_loader": lambda v: v is LOADER, "val_loader": None,
                "optimizer": None, "criterion": is_a(nn.CrossEntropyLoss), "device": "cpu", "lr_scheduler": None,
                "max_grad_norm": 1.0, "gradient_accumulation_steps": 1, "mixed_precision": False,
                "checkpoint_dir": None, "scaler": None, "current_epoch": 0, "best_val_loss": INF, "best_val_acc": 0.0,
                "history": {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": [], "lr": []}}
    if not torch.cuda.is_available():  # mixed_precision=True (the default) is switched off without CUDA
        check(cnn_trainer.CNNTrainer(model, LOADER, device="cuda"), expected)
    check(cnn_trainer.CNNTrainer(model, LOADER, device="cpu", mixed_precision=False), expected)
    assert cnn_trainer.CNNTrainer(model, LOADER, device="cpu", checkpoint_dir="ck").checkpoint_dir == Path("ck")
    assert cnn_trainer.CNNTrainer(model, LOADER, device="cpu", checkpoint_dir="").checkpoint_dir is None


def test_other_trainers():
    teacher, student, optimizer = _model(), _model(), _optimizer()
    criterion = knowledge_distillation.DistillationLoss()
    check(knowledge_distillation.DistillationTrainer(teacher, student, criterion, optimizer),
          {"teacher_model": lambda v: v is teacher, "student_model": lambda v: v is student,
           "criterion": lambda v: v is criterion, "optimizer": lambda v: v is optimizer, "device": "cpu"})
    check(progressive_resizing.ProgressiveResizingTrainer(student, optimizer, criterion),
          {"model": lambda v: v is student, "optimizer": lambda v: v is optimizer,
           "criterion": lambda v: v is criterion,
           "device": "cpu", "schedule": [(25600, 30), (51200, 20), (102400, 50)]})
    assert progressive_resizing.ProgressiveResizingTrainer(student, optimizer, criterion, schedule=[]).schedule == []
    check(progressive_resizing.ResizableSignalDataset([], 100), {"base_dataset": [], "target_length": 100,
                                                                 "resize_method": "interpolate"})
