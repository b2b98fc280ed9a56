"""Strict model loading that says exactly what does not fit, and how to fix it.

``nn.Module.load_state_dict`` reports mismatches as one long RuntimeError and, for shape
mismatches, only after it has already copied part of the weights. Here everything is checked
first, so a strict load either succeeds or leaves the model untouched.
"""

from __future__ import annotations

import copy
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _NormBase
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

from pfdtrain.checkpoint.errors import CheckpointMismatchError

#: Added by DataParallel / DistributedDataParallel and by torch.compile, respectively.
WRAPPER_PREFIXES: tuple[str, ...] = ("module.", "_orig_mod.")
_MAX_LISTED = 10


def load_model_state(model: nn.Module, state_dict: Mapping[str, Any], strict: bool = True) -> None:
    """Load ``state_dict`` into ``model`` (tensors may be on another device: values are copied).

    A ``module.`` (DataParallel/DDP) or ``_orig_mod.`` (torch.compile) prefix is stripped when
    every checkpoint key has it and stripping matches more of the model's keys. The v2
    ``model`` section itself (``{"state_dict", "architecture", "config"}``) is accepted too.

    ``strict=True``: any missing key, unexpected key or shape mismatch raises
    :class:`CheckpointMismatchError` before a single tensor is copied. ``strict=False``: the
    matching tensors are loaded, the rest is skipped with a warning that lists it.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping of names to tensors, got {type(state_dict).__name__}")
    architecture = None
    if _is_model_section(state_dict):
        architecture = state_dict.get("architecture")
        state_dict = state_dict["state_dict"]

    model_state = model.state_dict()
    checkpoint_state = _restore_dtypes(_strip_wrapper_prefixes(state_dict, model_state.keys()), model_state)
    tolerated = _tolerated_missing(model, checkpoint_state)

    missing = [key for key in model_state if key not in checkpoint_state and key not in tolerated]
    unexpected = [key for key in checkpoint_state if key not in model_state]
    shape_mismatches = [
        (key, tuple(value.shape), tuple(model_state[key].shape))
        for key, value in checkpoint_state.items()
        if key in model_state
        and isinstance(value, torch.Tensor)
        and isinstance(model_state[key], torch.Tensor)
        and value.shape != model_state[key].shape
    ]
    if not (missing or unexpected or shape_mismatches):
        try:
            model.load_state_dict(checkpoint_state, strict=strict)
        except RuntimeError as exc:  # a module with its own loading rules disagreed
            raise CheckpointMismatchError(
                f"The checkpoint does not fit {_model_name(model)}: {exc}\n{_advice(architecture)}"
            ) from exc
        return

    report = _report(model, missing, unexpected, shape_mismatches, architecture)
    if strict:
        raise CheckpointMismatchError(
            report, missing=missing, unexpected=unexpected, shape_mismatches=shape_mismatches
        )
    skipped = {key for key, _, _ in shape_mismatches}
    loadable = _subset(checkpoint_state, lambda key: key not in skipped)
    model.load_state_dict(loadable, strict=False)
    warnings.warn(f"strict=False: loaded only the matching tensors. {report}", UserWarning, stacklevel=2)


def _is_model_section(obj: Mapping[str, Any]) -> bool:
    return isinstance(obj.get("state_dict"), Mapping) and set(obj) <= {"state_dict", "architecture", "config"}


def _strip_wrapper_prefixes(state_dict: Mapping[str, Any], model_keys: Any) -> Mapping[str, Any]:
    """Strip wrapper prefixes shared by all keys (DDP around a compiled model has two).

    The version that matches most model keys wins; unstripped on a tie, so that a model which
    really has a submodule called ``module`` keeps its keys.
    """
    wanted = set(model_keys)
    best, best_score = state_dict, len(set(state_dict) & wanted)
    current = state_dict
    for _ in range(2 * len(WRAPPER_PREFIXES)):
        prefix = next(
            (p for p in WRAPPER_PREFIXES if current and all(isinstance(k, str) and k.startswith(p) for k in current)),
            None,
        )
        if prefix is None:
            break
        current = _without_prefix(current, prefix)
        score = len(set(current) & wanted)
        if score > best_score:
            best, best_score = current, score
    return best


def _restore_dtypes(state_dict: Mapping[str, Any], model_state: Mapping[str, Any]) -> Mapping[str, Any]:
    """``"torch.qint8"`` back to ``torch.qint8`` where the model holds a dtype (quantized packed params).

    v2 stores dtypes as text (plain data); a quantized module's loader compares real dtypes.
    """
    found = {
        key: getattr(torch, value[len("torch."):], value)
        for key, value in state_dict.items()
        if isinstance(value, str) and value.startswith("torch.") and isinstance(model_state.get(key), torch.dtype)
    }
    if not found:
        return state_dict
    result = _subset(state_dict, lambda key: True)
    result.update(found)
    return result


def _without_prefix(state_dict: Mapping[str, Any], prefix: str) -> OrderedDict[str, Any]:
    """A stripped copy; ``_metadata`` (per-module versions) is stripped too, never mutated."""
    result: OrderedDict[str, Any] = OrderedDict(state_dict)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        result._metadata = copy.copy(metadata)  # type: ignore[attr-defined]  # state_dict() metadata: an attribute torch sets on OrderedDicts
    consume_prefix_in_state_dict_if_present(result, prefix)
    return result


def _subset(state_dict: Mapping[str, Any], keep: Any) -> OrderedDict[str, Any]:
    result: OrderedDict[str, Any] = OrderedDict((k, v) for k, v in state_dict.items() if keep(k))
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        result._metadata = metadata  # type: ignore[attr-defined]  # state_dict() metadata: an attribute torch sets on OrderedDicts
    return result


def _tolerated_missing(model: nn.Module, state_dict: Mapping[str, Any]) -> set[str]:
    """Keys torch itself fills in: ``num_batches_tracked`` of norm layers saved before it existed.

    BatchNorm accepts a state dict without it when that state dict carries no version (or
    version < 2) for the layer; reporting it as missing would refuse files torch loads.
    """
    metadata = getattr(state_dict, "_metadata", None) or {}
    tolerated = set()
    for name, module in model.named_modules():
        if isinstance(module, _NormBase) and module.track_running_stats:
            version = metadata.get(name, {}).get("version")
            if version is None or version < 2:
                tolerated.add(f"{name}.num_batches_tracked" if name else "num_batches_tracked")
    return tolerated


def _model_name(model: nn.Module) -> str:
    kind = type(model)
    return f"{kind.__module__}.{kind.__qualname__}"


def _listing(items: list[str]) -> str:
    shown = items[:_MAX_LISTED]
    lines = "".join(f"\n    {item}" for item in shown)
    if len(items) > len(shown):
        lines += f"\n    ... and {len(items) - len(shown)} more"
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "es" if word.endswith("h") else "s")


def _report(
    model: nn.Module,
    missing: list[str],
    unexpected: list[str],
    shape_mismatches: list[tuple[str, tuple[int, ...], tuple[int, ...]]],
    architecture: Any,
) -> str:
    counts = ", ".join(
        text
        for n, text in (
            (len(missing), _plural(len(missing), "missing key")),
            (len(unexpected), _plural(len(unexpected), "unexpected key")),
            (len(shape_mismatches), _plural(len(shape_mismatches), "shape mismatch")),
        )
        if n
    )
    parts = [f"The checkpoint does not fit {_model_name(model)} ({counts})."]
    if shape_mismatches:
        parts.append(
            "Shape mismatches:"
            + _listing([f"{k}: checkpoint {list(c)} vs model {list(m)}" for k, c, m in shape_mismatches])
        )
    if missing:
        parts.append("Missing keys (in the model, not in the checkpoint):" + _listing(missing))
    if unexpected:
        parts.append("Unexpected keys (in the checkpoint, not in the model):" + _listing(unexpected))
    if architecture and architecture != _model_name(model):
        parts.append(f"The checkpoint was saved from {architecture}.")
    parts.append(_advice(architecture))
    return "\n".join(parts)


def _advice(architecture: Any) -> str:
    return (
        "To fix: build the model with the same architecture and configuration as the checkpoint "
        "(its model.architecture and model.config entries"
        + (f"; architecture={architecture}" if architecture else "")
        + "), or pass strict=False to load only the matching tensors."
    )
