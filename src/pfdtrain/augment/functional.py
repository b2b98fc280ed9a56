"""Deterministic augmentation kernels: every random choice is an argument.

The generator-driven transforms of this package and the legacy adapters (which must reproduce
legacy's global-RNG draws) both call these, so each operation is written once.
"""

from __future__ import annotations

import torch


def soft_labels(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot float ``[B, K]`` from index labels ``[B]``; ``[B, K]`` labels pass through."""
    if labels.dim() == 1:
        return torch.nn.functional.one_hot(labels, num_classes).float()
    return labels


def mix(a: torch.Tensor, b: torch.Tensor, weight: float | torch.Tensor) -> torch.Tensor:
    """``weight * a + (1 - weight) * b`` (``weight`` a number or per-sample, broadcastable)."""
    return weight * a + (1 - weight) * b


def mix_labels(labels_a: torch.Tensor, labels_b: torch.Tensor, weight_a: float | torch.Tensor,
               num_classes: int) -> torch.Tensor:
    """Soft labels ``weight_a * onehot(a) + (1 - weight_a) * onehot(b)``."""
    return mix(soft_labels(labels_a, num_classes), soft_labels(labels_b, num_classes), weight_a)


def paste_span(base: torch.Tensor, source: torch.Tensor, start: int, length: int) -> torch.Tensor:
    """Copy of ``base`` with ``source[..., start:start + length]`` pasted in (one span for all)."""
    out = base.clone()
    out[..., start:start + length] = source[..., start:start + length]
    return out


def span_mask(size: int, starts: torch.Tensor, lengths: torch.Tensor | int) -> torch.Tensor:
    """Boolean ``[..., size]``: True inside any span ``[start, start + length)`` of the last axis
    of ``starts`` (``[..., n]``); spans are clipped to ``[0, size)``."""
    positions = torch.arange(size, device=starts.device)
    starts = starts.unsqueeze(-1)
    ends = starts + (lengths.unsqueeze(-1) if isinstance(lengths, torch.Tensor) else lengths)
    inside = (positions >= starts) & (positions < ends)
    return inside.any(dim=-2)


def zero_where(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``x`` with exact zeros where ``mask`` (broadcast) is True; a new tensor."""
    return torch.where(mask, torch.zeros((), dtype=x.dtype, device=x.device), x)


def roll_samples(x: torch.Tensor, shifts: torch.Tensor, dim: int, circular: bool = True) -> torch.Tensor:
    """Shift each sample ``x[b]`` by ``shifts[b]`` along ``dim`` (>= 1): wrap around, or fill with 0."""
    size = x.shape[dim]
    shape = [1] * x.dim()
    shape[0], shape[dim] = x.shape[0], size
    source = torch.arange(size, device=x.device).unsqueeze(0) - shifts.to(x.device).unsqueeze(1)  # [B, size]
    index = (source % size).view(shape).expand_as(x)
    out = x.gather(dim, index)
    if circular:
        return out
    valid = ((source >= 0) & (source < size)).view(shape)
    return zero_where(out, ~valid)


def permute_within_samples(x: torch.Tensor, order: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """``out[b, i] = x[b, order[b, i]]`` along ``dim`` (``order`` ``[B, N]``)."""
    shape = [1] * x.dim()
    shape[0], shape[dim] = order.shape
    return x.gather(dim, order.to(x.device).view(shape).expand_as(x))


def keep_mask_scale(x: torch.Tensor, keep: torch.Tensor, keep_prob: float) -> torch.Tensor:
    """Inverted dropout: ``x * keep / keep_prob`` (``keep`` a 0/1 float mask, broadcastable)."""
    return x * keep / keep_prob
