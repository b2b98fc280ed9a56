"""Device selection with errors that say what to do."""

from __future__ import annotations

import torch

from pfdtrain.errors import ConfigurationError


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None``/"auto" picks CUDA when available, else CPU; torch.device objects are accepted."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigurationError(
            f"device {device!r} is not a device torch understands ({exc}); use 'cpu', 'cuda', "
            "'cuda:1', 'mps' or None to pick automatically."
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigurationError(
            f"device {str(device)!r} was requested but CUDA is not available with this torch build "
            f"({torch.__version__}). Use device='cpu' (or None to pick automatically), or install a "
            "CUDA build of torch."
        )
    if resolved.type == "cuda" and resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ConfigurationError(
            f"device {str(device)!r} was requested but only {torch.cuda.device_count()} CUDA "
            "device(s) are visible."
        )
    return resolved
