"""Legacy ``training.transformer_augmentation`` (patch sequences ``[B, N, D]``).

Random choices come from the global ``torch`` / ``numpy.random`` streams in legacy order; the
operations are :mod:`pfdtrain.augment.functional` kernels. Kept quirks: the input is returned as
the same object when nothing applies, ``drop_prob=1`` gives NaN, mixed-label width is
``labels1.max() + 1``, a cutout never covers the last patch while ``hole_size < N``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from pfdtrain.augment import functional as K
from pfdtrain.compat._legacy_names import Optional, Tuple, get_logger

__all__ = [
    # module-level names of the legacy module (served as training.transformer_augmentation.<name>)
    "F",
    "Optional",
    "PatchAugmentation",
    "Tuple",
    "get_heavy_augmentation",
    "get_light_augmentation",
    "get_medium_augmentation",
    "logger",
    "np",
    "patch_cutout",
    "patch_dropout",
    "patch_jitter",
    "patch_mixup",
    "patch_permutation",
    "temporal_shift_patches",
    "torch",
]

logger = get_logger("training.transformer_augmentation")


def patch_dropout(patches: torch.Tensor, drop_prob: float = 0.1, training: Any = True) -> Any:
    if not training or drop_prob == 0:
        return patches
    keep_prob = 1 - drop_prob
    batch, n_patches = patches.shape[:2]
    keep = torch.bernoulli(torch.full((batch, n_patches, 1), keep_prob, device=patches.device))
    return K.keep_mask_scale(patches, keep, keep_prob)


def patch_mixup(patches1: torch.Tensor, patches2: torch.Tensor, labels1: torch.Tensor, labels2: torch.Tensor,
                alpha: Any = 0.4) -> Any:
    lam = np.random.beta(alpha, alpha) if alpha > 0 else 1.0
    width = int(labels1.max()) + 1 if labels1.dim() == 1 else labels1.shape[1]
    return K.mix(patches1, patches2, lam), K.mix_labels(labels1, labels2, lam, width)


def temporal_shift_patches(patches: torch.Tensor, max_shift: int = 5, circular: bool = True) -> Any:
    if max_shift == 0:
        return patches
    shifts = torch.randint(-max_shift, max_shift + 1, (patches.shape[0],))
    return K.roll_samples(patches, shifts, dim=1, circular=circular)


def patch_cutout(patches: torch.Tensor, n_holes: int = 10, hole_size: int = 5) -> Any:
    batch, n_patches = patches.shape[:2]
    drawn = [[np.random.randint(0, max(1, n_patches - hole_size)) for _ in range(n_holes)] for _ in range(batch)]
    starts = torch.tensor(drawn, dtype=torch.int64, device=patches.device).reshape(batch, n_holes)
    mask = K.span_mask(n_patches, starts, hole_size)  # [B, N]
    return K.zero_where(patches, mask.unsqueeze(-1))


def patch_permutation(patches: torch.Tensor, permute_prob: float = 0.1) -> Any:
    batch, n_patches = patches.shape[:2]
    n_swaps = int(n_patches * permute_prob / 2)
    order = np.tile(np.arange(n_patches), (batch, 1))
    for b in range(batch):
        for _ in range(n_swaps):
            i, j = np.random.choice(n_patches, 2, replace=False)
            order[b, i], order[b, j] = order[b, j], order[b, i]
    return K.permute_within_samples(patches.clone(), torch.from_numpy(order), dim=1)


def patch_jitter(patches: torch.Tensor, noise_std: float = 0.01) -> Any:
    return patches + torch.randn_like(patches) * noise_std


class PatchAugmentation:
    def __init__(self, use_dropout: bool = True, dropout_prob: float = 0.1, use_cutout: bool = False,
                 cutout_holes: int = 5, cutout_size: int = 3, use_shift: bool = True, max_shift: int = 3,
                 use_jitter: bool = False, jitter_std: float = 0.01, use_permutation: bool = False,
                 permute_prob: float = 0.05) -> None:
        self.use_dropout = use_dropout
        self.dropout_prob = dropout_prob
        self.use_cutout = use_cutout
        self.cutout_holes = cutout_holes
        self.cutout_size = cutout_size
        self.use_shift = use_shift
        self.max_shift = max_shift
        self.use_jitter = use_jitter
        self.jitter_std = jitter_std
        self.use_permutation = use_permutation
        self.permute_prob = permute_prob

    def __call__(self, patches: torch.Tensor, training: Any = True) -> Any:
        if not training:
            return patches
        if self.use_dropout:
            patches = patch_dropout(patches, self.dropout_prob, training=True)
        if self.use_cutout:
            patches = patch_cutout(patches, self.cutout_holes, self.cutout_size)
        if self.use_shift:
            patches = temporal_shift_patches(patches, self.max_shift)
        if self.use_jitter:
            patches = patch_jitter(patches, self.jitter_std)
        if self.use_permutation:
            patches = patch_permutation(patches, self.permute_prob)
        return patches


def get_light_augmentation() -> Any:
    return PatchAugmentation(use_dropout=True, dropout_prob=0.05, use_shift=True, max_shift=2)


def get_medium_augmentation() -> Any:
    return PatchAugmentation(use_dropout=True, dropout_prob=0.1, use_cutout=True, cutout_holes=5, cutout_size=3,
                             use_shift=True, max_shift=3)


def get_heavy_augmentation() -> Any:
    return PatchAugmentation(use_dropout=True, dropout_prob=0.15, use_cutout=True, cutout_holes=10, cutout_size=5,
                             use_shift=True, max_shift=5, use_jitter=True, jitter_std=0.02, use_permutation=True,
                             permute_prob=0.1)


def _legacy_main() -> None:
    """``python -m training.transformer_augmentation``: legacy's demo of every function."""
    print("Testing patch augmentation functions...\n")
    batch_size, n_patches, d_model = 4, 200, 256
    patches = torch.randn(batch_size, n_patches, d_model)
    print(f"Input patches shape: {patches.shape}")

    def zero_fraction(x: torch.Tensor) -> str:
        return f"{(x.abs().sum(dim=-1) == 0).float().mean():.3f}"

    print("\n1. Testing patch_dropout...")
    dropped = patch_dropout(patches, drop_prob=0.1, training=True)
    print(f"   Output shape: {dropped.shape}")
    print(f"   Fraction of zero patches: {zero_fraction(dropped)}")
    print("\n2. Testing patch_mixup...")
    patches2 = torch.randn(batch_size, n_patches, d_model)
    labels1 = torch.randint(0, 11, (batch_size,))
    labels2 = torch.randint(0, 11, (batch_size,))
    mixed, mixed_labels = patch_mixup(patches, patches2, labels1, labels2, alpha=0.4)
    print(f"   Mixed patches shape: {mixed.shape}")
    print(f"   Mixed labels shape: {mixed_labels.shape}")
    print("\n3. Testing temporal_shift_patches...")
    print(f"   Shifted shape: {temporal_shift_patches(patches, max_shift=5, circular=True).shape}")
    print("\n4. Testing patch_cutout...")
    cutout = patch_cutout(patches, n_holes=5, hole_size=3)
    print(f"   Cutout shape: {cutout.shape}")
    print(f"   Fraction of zero patches: {zero_fraction(cutout)}")
    print("\n5. Testing patch_permutation...")
    print(f"   Permuted shape: {patch_permutation(patches, permute_prob=0.1).shape}")
    print("\n6. Testing patch_jitter...")
    print(f"   Jittered shape: {patch_jitter(patches, noise_std=0.01).shape}")
    print("\n7. Testing PatchAugmentation pipeline...")
    print(f"   Augmented shape: {get_medium_augmentation()(patches, training=True).shape}")
    print("\n8. Testing preset configurations...")
    presets = (("light", get_light_augmentation), ("medium", get_medium_augmentation),
               ("heavy", get_heavy_augmentation))
    for name, preset in presets:
        print(f"   {name}: output shape = {preset()(patches, training=True).shape}")
    print("\n✅ All tests passed!")
