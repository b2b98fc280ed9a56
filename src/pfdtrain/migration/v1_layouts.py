"""Every legacy (v1) checkpoint layout of the LSTM-PFD code, as a v1 <-> v2 table.

Sources: ``shared/legacy-api.md`` section 7.1 (writers and key orders) and the zoo in
``golden/training/checkpoints_v1``. Epochs: every legacy writer stores the 0-based index of
the epoch that just finished (``for epoch in range(n)``; ``scripts/train_cnn.py --resume``
restarts at ``epoch + 1``), while v2's ``training.epoch`` counts finished epochs, i.e. the next
epoch to run. So ``training.epoch = epoch + 1``, and a downgrade subtracts 1 again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from pfdtrain.migration.layouts import ROOT
from pfdtrain.migration.v1_mapping import Field, LayoutSpec


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_state(value: Any) -> bool:
    return value is None or isinstance(value, Mapping)


def _is_history(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(v, list) for v in value.values())


EPOCH = Field(
    "epoch", ("training", "epoch"), to_v2=lambda e: e + 1, to_v1=lambda n: n - 1, accepts=_is_int,
    note="v1 stores the 0-based index of the last finished epoch, v2 the number of finished epochs",
)
OPTIMIZER = Field("optimizer_state_dict", ("optimizer",), accepts=_is_state)
SCHEDULER = Field("scheduler_state_dict", ("scheduler",), accepts=_is_state)
HISTORY = Field("history", ("training", "history"), accepts=_is_history)
MODEL_CONFIG = Field("model_config", ("model", "config"), accepts=lambda v: isinstance(v, Mapping))
MODEL_CLASS = Field("model_class", ("model", "architecture"), accepts=lambda v: isinstance(v, str))
SCRIPT_ARGS = Field("args", ("config", "args"), accepts=lambda v: isinstance(v, Mapping), note="vars(argparse)")


def best(key: str) -> Field:
    """A v1 key that holds the best monitored value so far (v2 ``training.best_metric``)."""
    return Field(key, ("training", "best_metric"), accepts=_is_number, note="best monitored value so far")


def _best_or(default: float) -> Callable[[Mapping[str, Any]], Any]:
    def value(v2: Mapping[str, Any]) -> Any:
        found = v2.get("training", {}).get("best_metric")
        return default if found is None else found

    return value


def _const(value: Any) -> Callable[[Mapping[str, Any]], Any]:
    def constant(v2: Mapping[str, Any]) -> Any:
        return value

    return constant


SPECS: tuple[LayoutSpec, ...] = (
    LayoutSpec(
        "cnn_trainer", "CNNTrainer.save_checkpoint (best_model.pth)", "model_state_dict",
        (EPOCH, OPTIMIZER, SCHEDULER, HISTORY, best("best_val_acc")),
        keys=("epoch", "model_state_dict", "optimizer_state_dict", "best_val_acc", "best_val_loss", "history",
              "scheduler_state_dict"),
        optional=frozenset({"scheduler_state_dict"}),
        defaults={"best_val_acc": _best_or(0.0), "best_val_loss": _const(math.inf)},
    ),
    LayoutSpec(
        "spectrogram_trainer", "SpectrogramTrainer.save_checkpoint", "model_state_dict",
        (EPOCH, OPTIMIZER, HISTORY),  # its best_metric is always inf (never updated): kept in extra
        keys=("epoch", "model_state_dict", "optimizer_state_dict", "best_metric", "history", "specaugment_config",
              "metrics"),
        optional=frozenset({"metrics"}),
        defaults={"best_metric": _const(math.inf), "specaugment_config": _const({})},
    ),
    LayoutSpec(
        "callbacks.ModelCheckpoint", "training.callbacks.ModelCheckpoint", "model_state_dict",
        (EPOCH, OPTIMIZER, best("best_value")),
        keys=("epoch", "model_state_dict", "optimizer_state_dict", "metrics", "best_value"),
        defaults={"metrics": _const({}), "best_value": _best_or(math.inf)},
    ),
    LayoutSpec(
        "cnn_callbacks.ModelCheckpointCallback", "training.cnn_callbacks.ModelCheckpointCallback",
        "model_state_dict",
        (EPOCH, OPTIMIZER),  # the monitored value stays under its own key (val_acc, val_loss...)
        keys=("epoch", "model_state_dict", "val_acc", "optimizer_state_dict"),
        optional=frozenset({"optimizer_state_dict"}),
        defaults={"val_acc": _best_or(0.0)},
    ),
    LayoutSpec(
        "utils.CheckpointManager", "utils/checkpoint_manager.py CheckpointManager.save_checkpoint",
        "model_state_dict",
        (EPOCH, OPTIMIZER, SCHEDULER),  # its best_metric is the best BEFORE this save: kept in extra
        keys=("epoch", "model_state_dict", "metric_value", "metric_name", "timestamp", "best_metric",
              "optimizer_state_dict", "scheduler_state_dict"),
        optional=frozenset({"optimizer_state_dict", "scheduler_state_dict"}),
        defaults={
            "metric_value": _best_or(0.0),
            "metric_name": _const("val_acc"),
            "timestamp": lambda v2: v2.get("created") or "",
            "best_metric": _best_or(0.0),
        },
    ),
    LayoutSpec(
        "scripts.train_cnn", "scripts/train_cnn.py (best and periodic files)", "model_state_dict",
        (EPOCH, OPTIMIZER, SCHEDULER, SCRIPT_ARGS),
        keys=("epoch", "model_state_dict", "optimizer_state_dict", "scheduler_state_dict", "val_acc", "args"),
        defaults={"val_acc": _best_or(0.0), "args": lambda v2: dict(v2.get("config") or {})},
    ),
    LayoutSpec(
        "models.BaseModel", "BaseModel.save_checkpoint", "model_state_dict",
        (EPOCH, OPTIMIZER, MODEL_CONFIG, MODEL_CLASS),
        keys=("epoch", "model_state_dict", "model_config", "model_class", "optimizer_state_dict", "metrics"),
        optional=frozenset({"optimizer_state_dict", "metrics"}),
    ),
    LayoutSpec(
        "models.model_factory", "model_factory.save_checkpoint", "model_state_dict",
        (EPOCH, OPTIMIZER),
        keys=("model_state_dict", "optimizer_state_dict", "epoch", "metrics"),
        optional=frozenset({"optimizer_state_dict", "metrics"}),
    ),
    LayoutSpec(
        "deployment.quantization", "quantization.save_quantized_model", "model_state_dict",
        (),
        keys=("model_state_dict", "quantized", "metadata"),
        defaults={"quantized": _const(True), "metadata": _const({})},
    ),
    LayoutSpec(
        "dashboard.deployment_service", "DeploymentService.save_model", "model_state_dict",
        (),
        keys=("model_state_dict", "metadata"),
        defaults={"metadata": _const({})},
    ),
    LayoutSpec(
        "research.contrastive_physics", "ContrastivePretrainer.pretrain", "encoder_state_dict",
        (OPTIMIZER, HISTORY),
        keys=("encoder_state_dict", "optimizer_state_dict", "history"),
    ),
    LayoutSpec(
        "tests.conftest", "tests/conftest.py trained_model_checkpoint", "model_state_dict",
        (EPOCH,),
        keys=("model_state_dict", "epoch", "accuracy", "metadata"),
        defaults={"accuracy": _best_or(0.0), "metadata": _const({})},
    ),
    LayoutSpec("bare_state_dict", "torch.save(model.state_dict())", ROOT),
    LayoutSpec(
        "state_dict_key", "weights under 'state_dict' (read by model_factory.load_pretrained)", "state_dict",
        (EPOCH,),
        keys=("state_dict", "epoch"),
        optional=frozenset({"epoch"}),
    ),
    LayoutSpec(
        "generic", "an unrecognised writer with weights under a known key", "model_state_dict",
        (EPOCH, OPTIMIZER, SCHEDULER, HISTORY),
        keys=("model_state_dict", "optimizer_state_dict", "scheduler_state_dict", "epoch"),
        optional=frozenset({"optimizer_state_dict", "scheduler_state_dict"}),
    ),
)
