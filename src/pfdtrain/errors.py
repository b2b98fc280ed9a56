"""Exceptions that tell the user what was received and what to do instead."""

from __future__ import annotations


class PfdtrainError(Exception):
    """Base class for every error pfdtrain raises on purpose."""


class ConfigurationError(PfdtrainError, ValueError):
    """An argument or a combination of arguments cannot work; raised before training starts."""


class BatchStructureError(PfdtrainError, TypeError):
    """A batch does not have the structure the task expects."""


class NonFiniteLossError(PfdtrainError, FloatingPointError):
    """The loss became NaN or infinite and the trainer was told to raise."""


class MissingExtraError(PfdtrainError, ImportError):
    """An optional feature needs an extra that is not installed."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the optional dependency '{module}', which is not installed. "
            f"Install it with: pip install 'pfdtrain[{extra}]'"
        )
        self.extra = extra
        self.module = module


def describe(value: object) -> str:
    """Short human description of a value for error messages (type, and shape for tensors)."""
    import torch

    if isinstance(value, torch.Tensor):
        return f"Tensor(shape={list(value.shape)}, dtype={value.dtype})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value[:4])
        more = ", ..." if len(value) > 4 else ""
        return f"{type(value).__name__} of {len(value)} [{inner}{more}]"
    if isinstance(value, dict):
        return f"dict with keys {sorted(map(str, value))}"
    return type(value).__name__


class LegacyImportWarning(DeprecationWarning):
    """A legacy ``training.*`` / ``packages.core.training.*`` name was used through pfdtrain's
    drop-in import shims. The message names the new import and says whether its API is the same
    or adapted. A ``DeprecationWarning`` subclass, so the usual filters apply (shown by default
    for code run as ``__main__``)."""


class LegacyImportError(PfdtrainError, ImportError):
    """A legacy import names something that never existed in the legacy ``training`` package
    (it was only in documentation or milestone copies); the message names the closest real
    replacement."""
