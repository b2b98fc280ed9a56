"""Which legacy writer made a checkpoint: pure functions from the loaded object to a layout name.

Detection is kept apart from conversion so that ``--dry-run`` can say what it found, and why,
without converting anything, and so that each rule can be tested on its own. The names are the
ones used by ``golden/training/checkpoints_v1/manifest.json``. Rules go from the most specific
key set to the most generic; the first match wins and says which keys decided it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from pfdtrain.checkpoint.format import FORMAT_NAME

V2 = "v2"
ROOT = "<root>"
#: Added by DataParallel / DistributedDataParallel and by torch.compile.
WRAPPER_PREFIXES: dict[str, str] = {
    "module.": "nn.DataParallel / DistributedDataParallel",
    "_orig_mod.": "torch.compile",
}
#: Where legacy writers put the model weights, in the order legacy readers look.
WEIGHT_KEYS: tuple[str, ...] = ("model_state_dict", "state_dict", "encoder_state_dict")


@dataclass(frozen=True)
class Detection:
    """A layout name, the evidence for it, and where the weights are (``<root>`` for a bare dict)."""

    layout: str
    evidence: tuple[str, ...]
    weights_key: str | None = None
    prefixes: tuple[str, ...] = ()


def detect(obj: Any, serialization: str = "torch_zip") -> Detection | None:
    """The layout of an unpickled checkpoint, or None when no rule matches.

    ``serialization`` (from the file's first bytes) only adds evidence: the layout is a matter
    of content, a legacy non-zip file is read the same way.
    """
    if isinstance(obj, Mapping) and obj.get("format") == FORMAT_NAME:  # any version: check_format judges it
        return Detection(V2, (f"format {obj.get('format')!r} version {obj.get('format_version')!r}",))
    if isinstance(obj, torch.nn.Module):
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        return Detection("whole_module", (f"a pickled nn.Module ({name}), loaded with --trust-unsafe",), ROOT)
    if not isinstance(obj, Mapping) or not obj:
        return None
    for rule in RULES:
        found = rule(obj)
        if found is not None:
            layout, reason, weights_key = found
            return _with_weights(obj, layout, reason, weights_key, serialization)
    return None


def _with_weights(obj: Mapping, layout: str, reason: str, weights_key: str, serialization: str) -> Detection:
    weights = obj if weights_key == ROOT else obj[weights_key]
    prefixes = wrapper_prefixes(weights)
    evidence = [reason, *(f"every weight key starts with {prefix!r} ({WRAPPER_PREFIXES[prefix]})"
                          for prefix in prefixes)]
    if serialization == "torch_legacy":
        evidence.append("legacy non-zip serialization (torch < 1.6 or _use_new_zipfile_serialization=False)")
    return Detection(layout, tuple(evidence), weights_key, prefixes)


def wrapper_prefixes(state_dict: Mapping[str, Any]) -> tuple[str, ...]:
    """Wrapper prefixes shared by every key, outermost first (``_orig_mod.module.`` gives both)."""
    keys = [k for k in state_dict if isinstance(k, str)]
    if not keys or len(keys) != len(state_dict):
        return ()
    found: list[str] = []
    while True:
        depth = sum(map(len, found))
        prefix = next((p for p in WRAPPER_PREFIXES if all(k[depth:].startswith(p) for k in keys)), None)
        if prefix is None or any(len(k) == depth + len(prefix) for k in keys):
            return tuple(found)
        found.append(prefix)


def is_state_dict(value: Any) -> bool:
    """A non-empty mapping of str keys to tensors (quantized packed params: dtype and tuples too)."""
    if not isinstance(value, Mapping) or not value:
        return False
    has_tensor = False
    for key, item in value.items():
        if not isinstance(key, str):
            return False
        if isinstance(item, torch.Tensor):
            has_tensor = True
        elif key.endswith("_packed_params.dtype") and isinstance(item, (str, torch.dtype)):
            continue
        elif isinstance(item, tuple) and all(isinstance(x, torch.Tensor) or x is None for x in item):
            has_tensor = has_tensor or any(isinstance(x, torch.Tensor) for x in item)
        else:
            return False
    return has_tensor


# ---------------------------------------------------------------- rules (most specific first)

Rule = Callable[[Mapping], tuple[str, str, str] | None]


def _weights_at(obj: Mapping, key: str) -> bool:
    return key in obj and is_state_dict(obj[key])


def _bare(obj: Mapping) -> tuple[str, str, str] | None:
    if is_state_dict(obj):
        return "bare_state_dict", f"the file is a state_dict itself ({len(obj)} tensors at the top level)", ROOT
    return None


def _keys_rule(layout: str, required: tuple[str, ...], writer: str, weights_key: str = "model_state_dict") -> Rule:
    def rule(obj: Mapping) -> tuple[str, str, str] | None:
        if all(k in obj for k in required) and _weights_at(obj, weights_key):
            return layout, f"key{'s' * (len(required) > 1)} {', '.join(required)} ({writer})", weights_key
        return None

    rule.__name__ = f"rule_{layout}"
    return rule


def _model_checkpoint_callback(obj: Mapping) -> tuple[str, str, str] | None:
    """``epoch, model_state_dict, <monitor>[, optimizer_state_dict]``: the monitor key is the third."""
    keys = list(obj)
    if len(keys) not in (3, 4) or keys[:2] != ["epoch", "model_state_dict"]:
        return None
    monitor, rest = keys[2], keys[3:]
    if (rest not in ([], ["optimizer_state_dict"]) or not _is_number(obj[monitor])
            or not _weights_at(obj, "model_state_dict")):
        return None
    reason = (f"keys epoch, model_state_dict, then the monitored value {monitor!r} "
              "(cnn_callbacks.ModelCheckpointCallback)")
    return "cnn_callbacks.ModelCheckpointCallback", reason, "model_state_dict"


def _deployment_service(obj: Mapping) -> tuple[str, str, str] | None:
    if list(obj) == ["model_state_dict", "metadata"] and _weights_at(obj, "model_state_dict"):
        reason = ("exactly model_state_dict, metadata (DeploymentService.save_model; "
                  "model_factory.save_checkpoint(metadata=...) writes the same)")
        return "dashboard.deployment_service", reason, "model_state_dict"
    return None


def _tests_conftest(obj: Mapping) -> tuple[str, str, str] | None:
    if list(obj)[:3] == ["model_state_dict", "epoch", "accuracy"] and _weights_at(obj, "model_state_dict"):
        return ("tests.conftest", "keys model_state_dict, epoch, accuracy in this order (tests/conftest.py fixture)",
                "model_state_dict")
    return None


def _model_factory(obj: Mapping) -> tuple[str, str, str] | None:
    if next(iter(obj), None) == "model_state_dict" and _weights_at(obj, "model_state_dict"):
        return ("models.model_factory", "model_state_dict is the first key (model_factory.save_checkpoint)",
                "model_state_dict")
    return None


def _generic(obj: Mapping) -> tuple[str, str, str] | None:
    if _weights_at(obj, "model_state_dict"):
        return ("generic", "weights under 'model_state_dict'; no specific legacy writer matched the other keys",
                "model_state_dict")
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


RULES: tuple[Rule, ...] = (
    _bare,
    _keys_rule("spectrogram_trainer", ("specaugment_config",), "SpectrogramTrainer.save_checkpoint"),
    _keys_rule("cnn_trainer", ("best_val_acc", "best_val_loss", "history"), "CNNTrainer.save_checkpoint"),
    _keys_rule(
        "utils.CheckpointManager", ("metric_value", "metric_name", "timestamp", "best_metric"),
        "CheckpointManager.save_checkpoint",
    ),
    _keys_rule("models.BaseModel", ("model_class", "model_config"), "BaseModel.save_checkpoint"),
    _keys_rule("scripts.train_cnn", ("args", "val_acc"), "scripts/train_cnn.py"),
    _keys_rule("callbacks.ModelCheckpoint", ("epoch", "metrics", "best_value"), "callbacks.ModelCheckpoint"),
    _keys_rule(
        "research.contrastive_physics", ("encoder_state_dict",), "ContrastivePretrainer.pretrain",
        weights_key="encoder_state_dict",
    ),
    _keys_rule("deployment.quantization", ("quantized",), "quantization.save_quantized_model"),
    _model_checkpoint_callback,
    _deployment_service,
    _tests_conftest,
    _keys_rule("state_dict_key", ("state_dict",), "Lightning-style, read by model_factory.load_pretrained",
               "state_dict"),
    _model_factory,
    _generic,
)
