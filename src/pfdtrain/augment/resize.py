"""Changing a signal's length: interpolation, centre crop / zero pad, or subsampling."""

from __future__ import annotations

import torch
import torch.nn.functional as F

RESIZE_METHODS = ("interpolate", "crop", "subsample")


def resize_signal(signal: torch.Tensor, target_length: int, method: str = "interpolate") -> torch.Tensor:
    """Resize the last dimension of ``[T]``, ``[C, T]`` or ``[B, C, T]`` to ``target_length``.

    ``interpolate``: linear, ``align_corners=False``; ``crop``: centre crop or zero-pad at the
    end; ``subsample``: stride ``T // target`` then truncate, or tile and truncate when shorter.
    """
    if method not in RESIZE_METHODS:
        raise ValueError(f"Unknown resize method: {method!r}; valid: {list(RESIZE_METHODS)}")
    if target_length < 1:
        raise ValueError(f"target_length must be >= 1, got {target_length}")
    length = signal.shape[-1]
    if length == target_length:
        return signal
    if method == "interpolate":
        shape = signal.shape
        x = signal.reshape(-1, 1, length) if signal.dim() != 3 else signal
        out = F.interpolate(x.float() if not x.is_floating_point() else x, size=target_length,
                            mode="linear", align_corners=False)
        return out.reshape(*shape[:-1], target_length)
    if method == "crop":
        if length > target_length:
            start = (length - target_length) // 2
            return signal[..., start:start + target_length]
        return F.pad(signal, (0, target_length - length))
    if length > target_length:
        return signal[..., :: length // target_length][..., :target_length]
    repeats = target_length // length + 1
    return signal.repeat(*([1] * (signal.dim() - 1)), repeats)[..., :target_length]


class Resize:
    """Callable form of :func:`resize_signal` for tasks and datasets (deterministic, no RNG)."""

    def __init__(self, length: int, method: str = "interpolate") -> None:
        if method not in RESIZE_METHODS:
            raise ValueError(f"Unknown resize method: {method!r}; valid: {list(RESIZE_METHODS)}")
        self.length = int(length)
        self.method = method

    def __call__(self, signal: torch.Tensor) -> torch.Tensor:
        return resize_signal(signal, self.length, self.method)

    def __repr__(self) -> str:
        return f"Resize({self.length}, method={self.method!r})"
