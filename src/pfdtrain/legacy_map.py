"""The one legacy -> new mapping table.

Every public name of the legacy ``packages/core/training`` package (23 modules) has one entry:

* ``legacy``: the canonical dotted name, ``training.<module>.<Name>``. The second spelling,
  ``packages.core.training.<module>.<Name>``, maps to the same entry (see :func:`canonical`).
* ``compat``: where the object with the *legacy* behaviour lives,
  ``pfdtrain.compat.<module>.<Name>``. The drop-in import shims (``legacy_shims``) serve this
  object, and the codemods rewrite old imports to it (behaviour unchanged).
* ``new``: the core home for new code (``pfdtrain.losses.FocalLoss``, ``pfdtrain.Trainer``, ...),
  or ``None`` when nothing replaces it (self-tests, helpers without a core equivalent).
* ``status``: ``"same"`` when ``new`` is a drop-in (same call, same behaviour), ``"adapted"``
  when new code must change the call or expect different results, ``"removed"`` when ``new`` is
  ``None``.
* ``note``: one line for the warning text: what changes when moving to ``new``.
* ``compat_call`` / ``core_call`` (codemods): how a *call* of the name is rewritten when the
  codemod moves it to the compat / core target (:class:`CallMap`). ``core_call`` also marks the
  names whose call signature the core accepts (``UNCHANGED``): only those, and status ``"same"``,
  are moved by ``pfdtrain codemod --to-core``; every other name keeps its compat target there.

Everything else a legacy module bound at module level (its imports, constants, a ``logger``,
names re-exported from another legacy module) is in :data:`MODULE_GLOBALS` (:class:`ModuleGlobal`,
looked up with :func:`module_global`; :func:`by_legacy` answers for :data:`TABLE` only), so that
the shims serve ``training.cnn_trainer.tqdm`` and ``mock.patch`` of such a name reaches the adapter.

The shims, their ``LegacyImportWarning`` text, the codemods and the test that imports every
target read this module; nothing else may hold its own copy. Import cost: stdlib only (the
table is plain data; ``difflib`` loads only when :func:`closest` runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["same", "adapted", "removed"]

#: The two import prefixes legacy code uses for the package (``packages/core`` on ``sys.path``
#: gives ``training``; the repository root gives ``packages.core.training``).
LEGACY_PACKAGES = ("training", "packages.core.training")

#: Prefix of the legacy-behaviour adapters.
COMPAT_PACKAGE = "pfdtrain.compat"


@dataclass(frozen=True)
class CallMap:
    """How a call written for a legacy function reads for its replacement (used by the codemods).

    ``params``: the legacy parameters in positional order (what a positional argument binds to).
    ``keywords``: ``(legacy parameter, replacement keyword)`` pairs in the *replacement's* parameter
    order; the rewritten call passes every bound argument by keyword, in that order.
    ``defaults``: legacy defaults the replacement does not share, as Python source, passed
    explicitly when the call leaves them out. Other keywords (the legacy ``**kwargs``) follow
    unchanged. ``target``: the replacement callable when it is not the entry's own compat/new
    target. An empty map (:data:`UNCHANGED`) means every legacy call works as written.
    """

    params: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()
    defaults: tuple[tuple[str, str], ...] = ()
    target: str | None = None

    @property
    def unchanged(self) -> bool:
        return not self.params and not self.keywords and not self.defaults


#: Calls stay as written: the replacement takes the same parameters in the same order (results may
#: still differ as the entry's note says).
UNCHANGED = CallMap()


@dataclass(frozen=True)
class LegacyDotted:
    """A dotted name inside the legacy package, ``training.<module>.<name>``."""

    legacy: str

    @property
    def module(self) -> str:
        """Legacy module, e.g. ``"cnn_losses"``."""
        return self.legacy.split(".")[1]

    @property
    def name(self) -> str:
        """The name inside its module, e.g. ``"FocalLoss"``."""
        return self.legacy.rsplit(".", 1)[1]


@dataclass(frozen=True)
class LegacyName(LegacyDotted):
    """One public name of the legacy package and where it lives now."""

    compat: str
    new: str | None
    status: Status
    note: str = ""
    compat_call: CallMap | None = None
    core_call: CallMap | None = None

    @property
    def compat_import(self) -> str:
        """``from pfdtrain.compat.<module> import <Name>`` (legacy behaviour, drop-in)."""
        return import_statement(self.compat)

    @property
    def new_import(self) -> str | None:
        """``from pfdtrain.<pkg> import <Name>`` for new code, or None when removed."""
        return None if self.new is None else import_statement(self.new)

    @property
    def core_call_map(self) -> CallMap | None:
        """How calls move to ``new``, or None when no mechanical rewrite is safe (status ``same``:
        :data:`UNCHANGED`)."""
        if self.new is None:
            return None
        if self.core_call is not None:
            return self.core_call
        return UNCHANGED if self.status == "same" else None

    def spellings(self) -> tuple[str, ...]:
        """Both dotted spellings legacy code may use for this name."""
        tail = self.legacy[len("training."):]
        return tuple(f"{prefix}.{tail}" for prefix in LEGACY_PACKAGES)


def _e(module: str, name: str, new: str | None, status: Status, note: str = "", *,
       compat_call: CallMap | None = None, core_call: CallMap | None = None) -> LegacyName:
    return LegacyName(f"training.{module}.{name}", f"{COMPAT_PACKAGE}.{module}.{name}", new, status, note,
                      compat_call, core_call)


# legacy-api.md 5.1: the deprecated optimizers.create_optimizer(model_params, optimizer_name='adam', ...)
# forwards by keyword to cnn_optimizer.create_optimizer(optimizer_type, model_params, ...).
_OLD_OPTIMIZER_PARAMS = ("model_params", "optimizer_name", "lr", "weight_decay")
_NEW_OPTIMIZER_PARAMS = ("optimizer_type", "model_params", "lr", "weight_decay")


_SELF_TEST = "legacy self-test; pfdtrain's own test suite replaces it"

# Order: the module map of legacy-api.md section 1.
TABLE: tuple[LegacyName, ...] = (
    # 1.2 trainer
    _e("trainer", "TrainingState", "pfdtrain.History", "adapted",
       "the per-epoch history is trainer.history (a pfdtrain.History), returned by fit()"),
    _e("trainer", "Trainer", "pfdtrain.Trainer", "adapted",
       "Trainer(model, optimizer, max_epochs=...).fit(train_loader, val_loader) returns the History; "
       "AMP, accumulation and clipping are plugins"),
    # 1.3 callbacks (old API, callback(trainer, metrics))
    _e("callbacks", "Callback", "pfdtrain.callbacks.Callback", "adapted",
       "hooks receive the trainer (on_train_epoch_end(trainer), ...); stop by setting trainer.should_stop"),
    _e("callbacks", "EarlyStopping", "pfdtrain.callbacks.EarlyStopping", "adapted",
       "sets trainer.should_stop instead of raising StopIteration"),
    _e("callbacks", "ModelCheckpoint", "pfdtrain.callbacks.ModelCheckpoint", "adapted",
       "writes v2 checkpoints (plain data, resumable), top-k retention"),
    _e("callbacks", "LearningRateScheduler", "pfdtrain.Trainer", "adapted",
       "pass Trainer(scheduler=..., scheduler_monitor='val_loss'); the loop steps it"),
    _e("callbacks", "TensorBoardLogger", "pfdtrain.callbacks.TensorBoardLogger", "adapted",
       "is actually driven by the loop (the legacy one never logged inside fit); needs pfdtrain[tensorboard]"),
    _e("callbacks", "MLflowLogger", "pfdtrain.callbacks.MLflowLogger", "adapted",
       "is actually driven by the loop (the legacy one never logged inside fit); needs pfdtrain[mlflow]"),
    _e("callbacks", "ProgressPrinter", "pfdtrain.callbacks.ProgressBar", "adapted",
       "progress display of the core loop; prints are not the legacy text"),
    # 1.4 cnn_callbacks (new API, on_epoch_end(epoch, logs))
    _e("cnn_callbacks", "Callback", "pfdtrain.callbacks.Callback", "adapted",
       "hooks receive the trainer instead of (epoch, logs)"),
    _e("cnn_callbacks", "CallbackList", "pfdtrain.callbacks.CallbackList", "adapted",
       "the Trainer dispatches callbacks itself; pass callbacks=[...]"),
    _e("cnn_callbacks", "LearningRateMonitor", "pfdtrain.callbacks.LearningRateMonitor", "adapted",
       "records lr (and momentum) of every param group into the history"),
    _e("cnn_callbacks", "GradientMonitor", None, "removed",
       "no core equivalent; keep the compat adapter or write a pfdtrain.callbacks.Callback"),
    _e("cnn_callbacks", "ModelCheckpointCallback", "pfdtrain.callbacks.ModelCheckpoint", "adapted",
       "writes v2 checkpoints with top-k retention instead of one file per save"),
    _e("cnn_callbacks", "TimingCallback", None, "removed",
       "no core equivalent; epoch times are in the progress display"),
    _e("cnn_callbacks", "MetricLogger", "pfdtrain.callbacks.JSONLogger", "adapted",
       "writes trainer.history atomically each epoch"),
    _e("cnn_callbacks", "EarlyStoppingCallback", "pfdtrain.callbacks.EarlyStopping", "adapted",
       "stops the core loop itself (trainer.should_stop); no polling"),
    _e("cnn_callbacks", "test_callbacks", None, "removed", _SELF_TEST),
    # 1.5 cnn_trainer
    _e("cnn_trainer", "CNNTrainer", "pfdtrain.Trainer", "adapted",
       "scheduler, AMP and checkpoints are Trainer arguments, plugins and callbacks; fit returns a History"),
    _e("cnn_trainer", "test_cnn_trainer", None, "removed", _SELF_TEST),
    # 1.6 pinn_trainer
    _e("pinn_trainer", "PINNTrainingState", "pfdtrain.History", "adapted",
       "the per-epoch history is trainer.history (a pfdtrain.History)"),
    _e("pinn_trainer", "PINNTrainer", "pfdtrain.tasks.PhysicsInformedTask", "adapted",
       "pfdtrain.Trainer(model, optimizer, task=PhysicsInformedTask(...))"),
    # 1.7 spectrogram_trainer
    _e("spectrogram_trainer", "SpectrogramTrainer", "pfdtrain.Trainer", "adapted",
       "SpecAugment is a task train transform (pfdtrain.augment.SpecAugment)"),
    _e("spectrogram_trainer", "MultiTFRTrainer", "pfdtrain.Trainer", "adapted",
       "one Trainer per representation, or a custom Task combining them"),
    # 1.8 mixed_precision
    _e("mixed_precision", "MixedPrecisionTrainer", "pfdtrain.plugins.MixedPrecision", "adapted",
       "pfdtrain.Trainer(..., plugins=[MixedPrecision()]) (torch.amp, one GradScaler, saved in checkpoints)"),
    _e("mixed_precision", "enable_mixed_precision", None, "removed",
       "it only set torch.backends.cuda.matmul.allow_tf32/cudnn.allow_tf32; set them directly"),
    _e("mixed_precision", "check_mixed_precision_support", None, "removed",
       "no core equivalent; ask torch.cuda.is_available() / torch.cuda.is_bf16_supported()"),
    # 1.9 progressive_resizing
    _e("progressive_resizing", "ResizableSignalDataset", "pfdtrain.augment.Resize", "adapted",
       "use Resize(length) as a dataset/task transform"),
    _e("progressive_resizing", "resize_signal", "pfdtrain.augment.resize_signal", "adapted",
       "takes method= as a keyword; error text differs"),
    _e("progressive_resizing", "ProgressiveResizingTrainer", "pfdtrain.callbacks.ProgressiveResizing", "adapted",
       "pfdtrain.Trainer(..., callbacks=[ProgressiveResizing(schedule)]) with your own loaders"),
    # 1.10 knowledge_distillation
    _e("knowledge_distillation", "DistillationLoss", "pfdtrain.losses.DistillationLoss", "adapted",
       "teacher logits are detached by default"),
    _e("knowledge_distillation", "DistillationTrainer", "pfdtrain.tasks.DistillationTask", "adapted",
       "pfdtrain.Trainer(student, optimizer, task=DistillationTask(teacher, ...))"),
    _e("knowledge_distillation", "compare_teacher_student", None, "removed",
       "no core equivalent; evaluate both models with pfdtrain.metrics"),
    # 1.11 losses
    _e("losses", "FocalLoss", "pfdtrain.losses.FocalLoss", "adapted",
       "alpha is a per-class weight vector; a float alpha is rejected with a clear error"),
    _e("losses", "LabelSmoothingCrossEntropy", "pfdtrain.losses.LabelSmoothingCrossEntropy", "adapted"),
    _e("losses", "PhysicsInformedLoss", "pfdtrain.losses.PhysicsInformedLoss", "same"),
    _e("losses", "compute_class_weights", "pfdtrain.losses.compute_class_weights", "adapted",
       "absent classes get 0 by default, not N/1e-10 (missing_class_weight=None keeps legacy)"),
    # 1.12 cnn_losses
    _e("cnn_losses", "LabelSmoothingCrossEntropy", "pfdtrain.losses.LabelSmoothingCrossEntropy", "adapted",
       core_call=UNCHANGED),
    _e("cnn_losses", "FocalLoss", "pfdtrain.losses.FocalLoss", "adapted",
       "alpha is a per-class weight vector; a float alpha is rejected, not silently ignored"),
    _e("cnn_losses", "SupConLoss", "pfdtrain.losses.SupConLoss", "adapted", core_call=UNCHANGED),
    _e("cnn_losses", "create_criterion", "pfdtrain.losses.create_loss", "adapted",
       "create_loss(name, **kwargs) accepts 'cross_entropy'; a misspelt keyword raises TypeError"),
    _e("cnn_losses", "test_losses", None, "removed", _SELF_TEST),
    # 1.13 physics_loss_functions
    _e("physics_loss_functions", "FrequencyConsistencyLoss", "pfdtrain.physics.FrequencyConsistencyLoss",
       "adapted", "scores each sample at its own rpm; differentiable in the default soft mode"),
    _e("physics_loss_functions", "SpectralDistanceLoss", "pfdtrain.physics.SpectralDistanceLoss", "adapted"),
    _e("physics_loss_functions", "SommerfeldConsistencyLoss", "pfdtrain.physics.SommerfeldConsistencyLoss",
       "adapted"),
    _e("physics_loss_functions", "TemporalSmoothnessLoss", "pfdtrain.physics.TemporalSmoothnessLoss",
       "adapted", core_call=UNCHANGED),
    _e("physics_loss_functions", "PhysicalConstraintLoss", "pfdtrain.physics.PhysicalConstraintLoss",
       "adapted"),
    _e("physics_loss_functions", "frequency_consistency_loss", "pfdtrain.physics.FrequencyConsistencyLoss",
       "adapted", "build the loss module once and call it"),
    _e("physics_loss_functions", "sommerfeld_consistency_loss", "pfdtrain.physics.SommerfeldConsistencyLoss",
       "adapted", "build the loss module once and call it"),
    _e("physics_loss_functions", "temporal_smoothness_loss", "pfdtrain.physics.TemporalSmoothnessLoss",
       "adapted", "build the loss module once and call it"),
    # 1.14 optimizers
    _e("optimizers", "create_optimizer", "pfdtrain.optim.create_optimizer", "adapted",
       "argument order is create_optimizer(name, params, ...); an unknown keyword raises TypeError",
       compat_call=CallMap(_OLD_OPTIMIZER_PARAMS,
                           tuple(zip(("optimizer_name", "model_params", "lr", "weight_decay"), _NEW_OPTIMIZER_PARAMS,
                                     strict=True)),
                           (("optimizer_name", "'adam'"),), f"{COMPAT_PACKAGE}.cnn_optimizer.create_optimizer"),
       core_call=CallMap(_OLD_OPTIMIZER_PARAMS,
                         (("optimizer_name", "name"), ("model_params", "params"), ("lr", "lr"),
                          ("weight_decay", "weight_decay")),
                         (("optimizer_name", "'adam'"),))),
    _e("optimizers", "create_scheduler", "pfdtrain.optim.create_scheduler", "adapted",
       "create_scheduler(name, optimizer, **torch_keywords); no epoch-derived defaults"),
    _e("optimizers", "get_lr", "pfdtrain.optim.get_lr", "same"),
    _e("optimizers", "set_lr", "pfdtrain.optim.set_lr", "same"),
    # 1.15 cnn_optimizer
    _e("cnn_optimizer", "create_adamw_optimizer", "pfdtrain.optim.create_optimizer", "adapted",
       "create_optimizer('adamw', params, ...)"),
    _e("cnn_optimizer", "create_sgd_optimizer", "pfdtrain.optim.create_optimizer", "adapted",
       "create_optimizer('sgd', params, ...)"),
    _e("cnn_optimizer", "create_rmsprop_optimizer", "pfdtrain.optim.create_optimizer", "adapted",
       "create_optimizer('rmsprop', params, ...); eps and momentum are honoured"),
    _e("cnn_optimizer", "create_optimizer", "pfdtrain.optim.create_optimizer", "adapted",
       "an unknown keyword raises TypeError; eps/momentum are honoured",
       core_call=CallMap(_NEW_OPTIMIZER_PARAMS,
                         tuple(zip(_NEW_OPTIMIZER_PARAMS, ("name", "params", "lr", "weight_decay"), strict=True)))),
    _e("cnn_optimizer", "OptimizerConfig", "pfdtrain.optim.create_optimizer", "adapted",
       "pass the keywords to create_optimizer directly"),
    _e("cnn_optimizer", "get_parameter_groups", "pfdtrain.optim.parameter_groups", "adapted",
       "no-decay by module type (norm layers) and bias name, not by substring; frozen parameters left out"),
    _e("cnn_optimizer", "test_optimizers", None, "removed", _SELF_TEST),
    # 1.16 cnn_schedulers
    _e("cnn_schedulers", "create_cosine_scheduler", "pfdtrain.optim.create_scheduler", "adapted",
       "create_scheduler('cosine', optimizer, ...)"),
    _e("cnn_schedulers", "create_cosine_warmrestarts_scheduler", "pfdtrain.optim.create_scheduler", "adapted",
       "create_scheduler('cosine_restarts', optimizer, ...)"),
    _e("cnn_schedulers", "create_onecycle_scheduler", "pfdtrain.optim.create_scheduler", "adapted",
       "create_scheduler('onecycle', optimizer, ...); step it per batch (Trainer scheduler_interval='step')"),
    _e("cnn_schedulers", "create_step_scheduler", "pfdtrain.optim.create_scheduler", "adapted",
       "create_scheduler('step', optimizer, ...)"),
    _e("cnn_schedulers", "create_exponential_scheduler", "pfdtrain.optim.create_scheduler", "adapted",
       "create_scheduler('exponential', optimizer, ...)"),
    _e("cnn_schedulers", "create_plateau_scheduler", "pfdtrain.optim.create_scheduler", "adapted",
       "create_scheduler('plateau', optimizer, ...) works (the legacy one always raised TypeError)"),
    _e("cnn_schedulers", "WarmupScheduler", "pfdtrain.optim.LinearWarmup", "adapted",
       "LinearWarmup(optimizer, warmup_steps, after=...)"),
    _e("cnn_schedulers", "PolynomialLRScheduler", "pfdtrain.optim.PolynomialDecayLR", "adapted"),
    _e("cnn_schedulers", "test_schedulers", None, "removed", _SELF_TEST),
    # 1.17 transformer_schedulers
    _e("transformer_schedulers", "create_warmup_cosine_schedule", "pfdtrain.optim.WarmupCosineLR", "adapted",
       "a scheduler class; can hold the minimum after total steps"),
    _e("transformer_schedulers", "WarmupCosineScheduler", "pfdtrain.optim.WarmupCosineLR", "adapted",
       "can hold the minimum after total steps"),
    _e("transformer_schedulers", "create_warmup_linear_schedule", "pfdtrain.optim.WarmupLinearLR", "adapted"),
    _e("transformer_schedulers", "create_noam_schedule", "pfdtrain.optim.NoamLR", "adapted", core_call=UNCHANGED),
    _e("transformer_schedulers", "get_scheduler", "pfdtrain.optim.create_scheduler", "adapted",
       "one factory for every scheduler name"),
    # 1.18 metrics
    _e("metrics", "MetricsTracker", "pfdtrain.metrics.MetricsTracker", "adapted",
       "accumulates on the device without a host sync per batch"),
    _e("metrics", "compute_accuracy", "pfdtrain.metrics.accuracy", "adapted", "returns a fraction (0-d tensor), not %"),
    _e("metrics", "compute_f1_score", "pfdtrain.metrics.f1_score", "adapted"),
    _e("metrics", "compute_confusion_matrix", "pfdtrain.metrics.confusion_matrix", "adapted",
       "returns a tensor"),
    _e("metrics", "compute_top_k_accuracy", "pfdtrain.metrics.top_k_accuracy", "adapted",
       "returns a fraction (0-d tensor), not %"),
    _e("metrics", "compute_per_class_metrics", "pfdtrain.metrics.per_class_metrics", "adapted"),
    # 1.19 advanced_augmentation
    _e("advanced_augmentation", "cutmix", "pfdtrain.augment.CutMix", "adapted",
       "a batch transform; soft labels of width num_classes"),
    _e("advanced_augmentation", "cutmix_batch", "pfdtrain.augment.CutMix", "adapted",
       "a batch transform; soft labels of width num_classes"),
    _e("advanced_augmentation", "adversarial_augmentation", "pfdtrain.augment.fgsm", "adapted",
       "restores the model's mode by default"),
    _e("advanced_augmentation", "time_masking", "pfdtrain.augment.TimeMask", "adapted"),
    _e("advanced_augmentation", "gaussian_noise_augmentation", "pfdtrain.augment.GaussianNoise", "adapted"),
    _e("advanced_augmentation", "amplitude_scaling", "pfdtrain.augment.AmplitudeScale", "adapted"),
    _e("advanced_augmentation", "time_shift", "pfdtrain.augment.TimeShift", "adapted"),
    _e("advanced_augmentation", "AutoAugment", "pfdtrain.augment.RandomApply", "adapted",
       "compose RandomApply/Compose policies explicitly"),
    _e("advanced_augmentation", "MixupAugmentation", "pfdtrain.augment.Mixup", "adapted",
       "label width is the number of classes, not label1.max()+1"),
    _e("advanced_augmentation", "CompositeAugmentation", "pfdtrain.augment.Compose", "adapted"),
    # 1.20 transformer_augmentation
    _e("transformer_augmentation", "patch_dropout", "pfdtrain.augment.PatchDropout", "adapted"),
    _e("transformer_augmentation", "patch_mixup", "pfdtrain.augment.Mixup", "adapted",
       "label width is the number of classes"),
    _e("transformer_augmentation", "temporal_shift_patches", "pfdtrain.augment.PatchShift", "adapted"),
    _e("transformer_augmentation", "patch_cutout", "pfdtrain.augment.PatchCutout", "adapted"),
    _e("transformer_augmentation", "patch_permutation", "pfdtrain.augment.PatchPermutation", "adapted"),
    _e("transformer_augmentation", "patch_jitter", "pfdtrain.augment.PatchJitter", "adapted"),
    _e("transformer_augmentation", "PatchAugmentation", "pfdtrain.augment.Compose", "adapted",
       "Compose([PatchDropout(...), PatchShift(...), ...])"),
    _e("transformer_augmentation", "get_light_augmentation", "pfdtrain.augment.Compose", "adapted",
       "build the preset as a Compose of patch transforms"),
    _e("transformer_augmentation", "get_medium_augmentation", "pfdtrain.augment.Compose", "adapted",
       "build the preset as a Compose of patch transforms"),
    _e("transformer_augmentation", "get_heavy_augmentation", "pfdtrain.augment.Compose", "adapted",
       "build the preset as a Compose of patch transforms"),
    # 1.21-1.23 hyper-parameter search
    _e("grid_search", "GridSearchOptimizer", "pfdtrain.hpo.GridSearch", "adapted",
       "needs pfdtrain[hpo]"),
    _e("grid_search", "get_default_param_grid", "pfdtrain.hpo.default_search_space", "adapted"),
    _e("random_search", "RandomSearchOptimizer", "pfdtrain.hpo.RandomSearch", "adapted",
       "needs pfdtrain[hpo]"),
    _e("random_search", "get_default_param_distributions", "pfdtrain.hpo.default_search_space", "adapted"),
    _e("bayesian_optimizer", "BayesianOptimizer", "pfdtrain.hpo.BayesianSearch", "adapted",
       "needs pfdtrain[hpo]"),
)

#: The 23 legacy modules (``training.<module>``), in module-map order.
LEGACY_MODULES: tuple[str, ...] = (
    "trainer", "callbacks", "cnn_callbacks", "cnn_trainer", "pinn_trainer", "spectrogram_trainer",
    "mixed_precision", "progressive_resizing", "knowledge_distillation", "losses", "cnn_losses",
    "physics_loss_functions", "optimizers", "cnn_optimizer", "cnn_schedulers",
    "transformer_schedulers", "metrics", "advanced_augmentation", "transformer_augmentation",
    "grid_search", "random_search", "bayesian_optimizer",
)
# ``__init__`` is the 23rd module: the package itself, ``__all__ = []``.

#: Names that legacy documentation, milestone copies or scripts import but that never existed
#: in ``packages/core/training`` (legacy-api.md section 6). Canonical spelling -> replacements,
#: best first (table names ``training.*`` and core names ``pfdtrain.*``). Importing one raises
#: :class:`pfdtrain.errors.LegacyImportError` naming these.
NEVER_EXISTED: dict[str, tuple[str, ...]] = {
    "training.losses.create_loss_function": ("pfdtrain.losses.create_loss", "training.cnn_losses.create_criterion"),
    "training.cnn_losses.create_loss_function": ("pfdtrain.losses.create_loss", "training.cnn_losses.create_criterion"),
    "training.physics_loss_functions.EnergyConservationLoss": (
        "pfdtrain.physics.PhysicalConstraintLoss", "training.physics_loss_functions.PhysicalConstraintLoss"),
    "training.physics_loss_functions.MomentumConservationLoss": (
        "pfdtrain.physics.PhysicalConstraintLoss", "training.physics_loss_functions.PhysicalConstraintLoss"),
    "training.physics_loss_functions.BearingDynamicsLoss": (
        "pfdtrain.physics.PhysicalConstraintLoss", "training.physics_loss_functions.PhysicalConstraintLoss"),
    "training.advanced_augmentation.get_advanced_augmentation": (
        "pfdtrain.augment.Compose", "training.advanced_augmentation.CompositeAugmentation"),
    "training.progressive_resizing.ProgressiveResizer": (
        "pfdtrain.callbacks.ProgressiveResizing", "training.progressive_resizing.ProgressiveResizingTrainer"),
    # The package __init__ exported nothing (__all__ = []); docs/api/index.md imports this anyway.
    "training.Trainer": ("pfdtrain.Trainer", "training.trainer.Trainer"),
}

_BY_LEGACY: dict[str, LegacyName] = {entry.legacy: entry for entry in TABLE}
_BY_MODULE: dict[str, tuple[LegacyName, ...]] = {
    module: tuple(entry for entry in TABLE if entry.module == module) for module in LEGACY_MODULES
}

# --------------------------------------------------------------------------- module-level names

GlobalKind = Literal["import", "constant", "logger", "reexport"]


@dataclass(frozen=True)
class ModuleGlobal(LegacyDotted):
    """A module-level name of a legacy module that is not one of its own definitions: what it
    imported (``torch``, ``tqdm``, ``f1_score``), its constants and its ``logger``.

    Served by the shims so that ``mock.patch("training.<module>.<name>")`` and
    ``from training.<module> import <name>`` keep working; the object is the compat module's
    global of that name (patching either spelling changes it, and the adapter uses it where legacy
    behaviour depended on it). ``kind``: ``import`` (a library or stdlib object, served silently),
    ``constant`` (``NUM_CLASSES``, ...), ``logger`` (``logging.getLogger`` of the module's own
    name, per spelling) or ``reexport`` (another legacy module's name, e.g. ``pinn_trainer.Trainer``:
    the same object as that entry). ``origin``: what legacy bound the name to; ``new``: where new
    code imports it from (None: nothing to import, e.g. a logger).
    """

    kind: GlobalKind
    origin: str
    compat: str
    new: str | None
    note: str = ""

    @property
    def warns(self) -> bool:
        """Library imports are served silently (a test suite patching ``training.x.torch`` or
        ``training.x.tqdm`` would otherwise warn for every name); the rest warn once like the API."""
        return self.kind != "import"

    def spellings(self) -> tuple[str, ...]:
        tail = self.legacy[len("training."):]
        return tuple(f"{prefix}.{tail}" for prefix in LEGACY_PACKAGES)


#: Module-level names bound by each legacy module besides its own classes and functions, as
#: ``name`` (``import name``) or ``name=origin``. Every module also gets ``logger``.
_GLOBALS_SPEC: dict[str, str] = {
    "trainer": "torch nn=torch.nn DataLoader=torch.utils.data.DataLoader Optional=typing.Optional Dict=typing.Dict "
               "List=typing.List Callable=typing.Callable Path=pathlib.Path time tqdm=tqdm.tqdm "
               "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "callbacks": "torch nn=torch.nn Dict=typing.Dict Optional=typing.Optional Callable=typing.Callable "
                 "Path=pathlib.Path np=numpy",
    "cnn_callbacks": "torch nn=torch.nn Dict=typing.Dict List=typing.List Optional=typing.Optional "
                     "Callable=typing.Callable Any=typing.Any Path=pathlib.Path time json "
                     "defaultdict=collections.defaultdict get_logger=utils.logging.get_logger",
    "cnn_trainer": "torch nn=torch.nn DataLoader=torch.utils.data.DataLoader autocast=torch.cuda.amp.autocast "
                   "GradScaler=torch.cuda.amp.GradScaler Optional=typing.Optional Dict=typing.Dict List=typing.List "
                   "Tuple=typing.Tuple Path=pathlib.Path time tqdm=tqdm.tqdm np=numpy "
                   "get_logger=utils.logging.get_logger create_criterion=training.cnn_losses.create_criterion",
    "pinn_trainer": "torch nn=torch.nn DataLoader=torch.utils.data.DataLoader Optional=typing.Optional "
                    "Dict=typing.Dict List=typing.List Callable=typing.Callable Tuple=typing.Tuple Path=pathlib.Path "
                    "time tqdm=tqdm.tqdm sys Trainer=training.trainer.Trainer "
                    "TrainingState=training.trainer.TrainingState "
                    "FrequencyConsistencyLoss=training.physics_loss_functions.FrequencyConsistencyLoss "
                    "SommerfeldConsistencyLoss=training.physics_loss_functions.SommerfeldConsistencyLoss "
                    "TemporalSmoothnessLoss=training.physics_loss_functions.TemporalSmoothnessLoss "
                    "PhysicalConstraintLoss=training.physics_loss_functions.PhysicalConstraintLoss "
                    "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "spectrogram_trainer": "torch nn=torch.nn DataLoader=torch.utils.data.DataLoader Optional=typing.Optional "
                           "Dict=typing.Dict List=typing.List Callable=typing.Callable sys Path=pathlib.Path np=numpy "
                           "tqdm=tqdm.tqdm Trainer=training.trainer.Trainer "
                           "TrainingState=training.trainer.TrainingState "
                           "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "mixed_precision": "torch nn=torch.nn autocast=torch.cuda.amp.autocast GradScaler=torch.cuda.amp.GradScaler "
                       "Optional=typing.Optional Trainer=training.trainer.Trainer "
                       "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "progressive_resizing": "torch nn=torch.nn DataLoader=torch.utils.data.DataLoader Dataset=torch.utils.data.Dataset "
                            "List=typing.List Tuple=typing.Tuple Optional=typing.Optional Dict=typing.Dict np=numpy "
                            "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "knowledge_distillation": "torch nn=torch.nn F=torch.nn.functional DataLoader=torch.utils.data.DataLoader "
                              "Optional=typing.Optional Dict=typing.Dict Tuple=typing.Tuple np=numpy "
                              "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "losses": "torch nn=torch.nn F=torch.nn.functional Optional=typing.Optional "
              "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "cnn_losses": "torch nn=torch.nn F=torch.nn.functional Optional=typing.Optional "
                  "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "physics_loss_functions": "torch nn=torch.nn F=torch.nn.functional np=numpy Dict=typing.Dict "
                              "Optional=typing.Optional Tuple=typing.Tuple sys os "
                              "BearingDynamics=packages.core.models.physics.bearing_dynamics.BearingDynamics "
                              "FaultSignatureDatabase="
                              "packages.core.models.physics.fault_signatures.FaultSignatureDatabase "
                              "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "optimizers": "torch nn=torch.nn Adam=torch.optim.Adam SGD=torch.optim.SGD AdamW=torch.optim.AdamW "
                  "RMSprop=torch.optim.RMSprop StepLR=torch.optim.lr_scheduler.StepLR "
                  "CosineAnnealingLR=torch.optim.lr_scheduler.CosineAnnealingLR "
                  "ReduceLROnPlateau=torch.optim.lr_scheduler.ReduceLROnPlateau "
                  "OneCycleLR=torch.optim.lr_scheduler.OneCycleLR "
                  "CosineAnnealingWarmRestarts=torch.optim.lr_scheduler.CosineAnnealingWarmRestarts "
                  "Dict=typing.Dict Any=typing.Any Optional=typing.Optional warnings "
                  "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "cnn_optimizer": "torch optim=torch.optim Iterable=typing.Iterable Dict=typing.Dict Any=typing.Any "
                     "Optional=typing.Optional",
    "cnn_schedulers": "torch Optimizer=torch.optim.Optimizer _LRScheduler=torch.optim.lr_scheduler._LRScheduler "
                      "CosineAnnealingLR=torch.optim.lr_scheduler.CosineAnnealingLR "
                      "CosineAnnealingWarmRestarts=torch.optim.lr_scheduler.CosineAnnealingWarmRestarts "
                      "StepLR=torch.optim.lr_scheduler.StepLR ExponentialLR=torch.optim.lr_scheduler.ExponentialLR "
                      "ReduceLROnPlateau=torch.optim.lr_scheduler.ReduceLROnPlateau "
                      "OneCycleLR=torch.optim.lr_scheduler.OneCycleLR Optional=typing.Optional math "
                      "get_logger=utils.logging.get_logger",
    "transformer_schedulers": "math torch LambdaLR=torch.optim.lr_scheduler.LambdaLR "
                              "_LRScheduler=torch.optim.lr_scheduler._LRScheduler Optional=typing.Optional",
    "metrics": "torch np=numpy accuracy_score=sklearn.metrics.accuracy_score f1_score=sklearn.metrics.f1_score "
               "precision_score=sklearn.metrics.precision_score recall_score=sklearn.metrics.recall_score "
               "sklearn_confusion_matrix=sklearn.metrics.confusion_matrix Dict=typing.Dict Optional=typing.Optional "
               "Tuple=typing.Tuple NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "advanced_augmentation": "torch nn=torch.nn F=torch.nn.functional np=numpy Tuple=typing.Tuple "
                             "Optional=typing.Optional List=typing.List Callable=typing.Callable random "
                             "NUM_CLASSES=utils.constants.NUM_CLASSES SIGNAL_LENGTH=utils.constants.SIGNAL_LENGTH",
    "transformer_augmentation": "torch F=torch.nn.functional np=numpy Tuple=typing.Tuple Optional=typing.Optional",
    "grid_search": "np=numpy Dict=typing.Dict List=typing.List Any=typing.Any "
                   "GridSearchCV=sklearn.model_selection.GridSearchCV BaseEstimator=sklearn.base.BaseEstimator",
    "random_search": "np=numpy Dict=typing.Dict Any=typing.Any "
                     "RandomizedSearchCV=sklearn.model_selection.RandomizedSearchCV uniform=scipy.stats.uniform "
                     "randint=scipy.stats.randint",
    "bayesian_optimizer": "np=numpy Dict=typing.Dict Any=typing.Any Optional=typing.Optional Callable=typing.Callable "
                          "optuna TPESampler=optuna.samplers.TPESampler Path=pathlib.Path",
}

#: Where new code gets an imported object whose legacy origin is not importable or deprecated.
_NEW_HOME = {
    "utils.constants.NUM_CLASSES": "pfdtrain.physics.constants.NUM_CLASSES",
    "utils.constants.SIGNAL_LENGTH": "pfdtrain.physics.constants.SIGNAL_LENGTH",
    "utils.logging.get_logger": "logging.getLogger",
    "torch.cuda.amp.autocast": "torch.amp.autocast",
    "torch.cuda.amp.GradScaler": "torch.amp.GradScaler",
    "packages.core.models.physics.bearing_dynamics.BearingDynamics": "pfdtrain.physics.bearing.BearingGeometry",
    "packages.core.models.physics.fault_signatures.FaultSignatureDatabase":
        "pfdtrain.physics.signatures.signature_table",
}

_GLOBAL_NOTES = {
    "torch.cuda.amp.autocast": "torch.amp.autocast('cuda', ...) stands in for the deprecated torch.cuda.amp class",
    "torch.cuda.amp.GradScaler": "a torch.amp.GradScaler('cuda', ...) stands in for the deprecated torch.cuda.amp "
                                 "class",
    "utils.logging.get_logger": "logging.getLogger(name), as the legacy utils.logging helper returned",
}


def _module_globals(module: str, spec: str) -> tuple[ModuleGlobal, ...]:
    out = []
    for token in spec.split():
        name, _, origin = token.partition("=")
        origin = origin or name
        legacy, compat = f"training.{module}.{name}", f"{COMPAT_PACKAGE}.{module}.{name}"
        if origin.startswith("utils.constants."):
            kind: GlobalKind = "constant"
        elif origin.startswith("training."):
            kind = "reexport"
        else:
            kind = "import"
        if kind == "reexport":
            target = _BY_LEGACY[origin]
            out.append(ModuleGlobal(legacy, kind, origin, compat, target.new, describe(target)))
            continue
        new = _NEW_HOME.get(origin, origin)
        out.append(ModuleGlobal(legacy, kind, origin, compat, new, _GLOBAL_NOTES.get(origin, "")))
    out.append(ModuleGlobal(f"training.{module}.logger", "logger", f"logging.getLogger('training.{module}')",
                            f"{COMPAT_PACKAGE}.{module}.logger", None,
                            f"logging.getLogger(<the module's own name>): 'training.{module}' or "
                            f"'packages.core.training.{module}', as spelled"))
    return tuple(out)



#: Every module-level name of the 22 legacy modules that is not in :data:`TABLE` (see
#: :class:`ModuleGlobal`), by module, in legacy binding order, ``logger`` last.
MODULE_GLOBALS: dict[str, tuple[ModuleGlobal, ...]] = {}
_BY_GLOBAL: dict[str, ModuleGlobal] = {}


def _build_globals() -> None:
    for module in LEGACY_MODULES:
        entries = _module_globals(module, _GLOBALS_SPEC[module])
        MODULE_GLOBALS[module] = entries
        _BY_GLOBAL.update((entry.legacy, entry) for entry in entries)


def module_global(dotted: str) -> ModuleGlobal | None:
    """The :class:`ModuleGlobal` for a legacy dotted name (either spelling), or None.
    (:func:`by_legacy` answers only for the API names of :data:`TABLE`.)"""
    return _BY_GLOBAL.get(canonical(dotted))


def canonical(dotted: str) -> str:
    """``packages.core.training.X`` -> ``training.X``; ``training.X`` unchanged; other names unchanged."""
    prefix = "packages.core."
    if dotted.startswith(prefix + "training"):
        rest = dotted[len(prefix):]
        if rest == "training" or rest.startswith("training."):
            return rest
    return dotted


def by_legacy(dotted: str) -> LegacyName | None:
    """The entry for a legacy dotted name (either spelling), or None."""
    return _BY_LEGACY.get(canonical(dotted))


def module_entries(module: str) -> tuple[LegacyName, ...]:
    """Entries of one legacy module: ``"cnn_losses"``, ``"training.cnn_losses"`` or
    ``"packages.core.training.cnn_losses"``. Unknown module -> ``()``."""
    name = canonical(module)
    if name.startswith("training."):
        name = name[len("training."):]
    return _BY_MODULE.get(name, ())


def compat_module(module: str) -> str:
    """``"cnn_losses"`` (any spelling) -> ``"pfdtrain.compat.cnn_losses"``."""
    name = canonical(module)
    if name.startswith("training."):
        name = name[len("training."):]
    if name not in _BY_MODULE:
        raise KeyError(f"not a legacy training module: {module!r}")
    return f"{COMPAT_PACKAGE}.{name}"


def import_statement(dotted: str) -> str:
    """``"pfdtrain.losses.FocalLoss"`` -> ``"from pfdtrain.losses import FocalLoss"``."""
    module, _, name = dotted.rpartition(".")
    return f"from {module} import {name}"


def closest(dotted: str) -> tuple[str, ...]:
    """Best replacements for a legacy dotted name that is not in the table (either spelling).

    Hand-written :data:`NEVER_EXISTED` first; then, for a package-level name
    (``training.CNNTrainer``), the table entries with that name; then ``difflib`` matches among
    the table's names (same module first). Returns dotted names, best first; may be empty.
    """
    name = canonical(dotted)
    if name in NEVER_EXISTED:
        return NEVER_EXISTED[name]
    if name in _BY_LEGACY:
        entry = _BY_LEGACY[name]
        return (entry.legacy,) if entry.new is None else (entry.new, entry.legacy)
    parts = name.split(".")
    if len(parts) == 2 and parts[0] == "training":
        hits = [entry for entry in TABLE if entry.name == parts[1]]
        if hits:
            out: list[str] = []
            for entry in hits:
                for candidate in (entry.new, entry.legacy):
                    if candidate is not None and candidate not in out:
                        out.append(candidate)
            return tuple(out)
    import difflib

    if len(parts) == 3 and parts[0] == "training" and parts[1] in _BY_MODULE:
        names = [entry.name for entry in _BY_MODULE[parts[1]]]
        near = difflib.get_close_matches(parts[2], names, n=3, cutoff=0.6)
        if near:
            return tuple(f"training.{parts[1]}.{n}" for n in near)
    return tuple(difflib.get_close_matches(name, list(_BY_LEGACY), n=3, cutoff=0.6))


def describe(entry: LegacyName) -> str:
    """The one-line migration hint used in ``LegacyImportWarning`` messages and codemod reports."""
    if entry.status == "removed":
        hint = "No pfdtrain core replacement (removed)"
    else:
        api = "same API" if entry.status == "same" else "adapted API"
        hint = f"New code: `{entry.new_import}` ({api})"
    if entry.note:
        hint = f"{hint}: {entry.note}"
    return f"{hint}. Drop-in with the legacy behaviour: `{entry.compat_import}`"


_build_globals()


def describe_global(entry: ModuleGlobal) -> str:
    """The warning text for a module-level name (constants, loggers, re-exported legacy names)."""
    if entry.kind == "reexport":
        return f"It is {entry.origin} (same object). {entry.note}"
    if entry.kind == "logger":
        return f"Use the module's logger directly: {entry.note}"
    hint = f"New code: `{import_statement(entry.new)}`" if entry.new else "No pfdtrain core replacement"
    if entry.note:
        hint = f"{hint} ({entry.note})"
    return f"{hint}. Drop-in with the legacy value: `{import_statement(entry.compat)}`"
