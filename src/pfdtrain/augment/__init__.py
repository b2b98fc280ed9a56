"""Augmentations for signals ``[B, C, T]``, spectrograms ``[B, C, H, W]`` and patches ``[B, N, D]``.

Every random transform is a callable object drawing from a ``torch.Generator`` (passed as
``generator=`` or owned and seeded from ``seed=``), never from the global RNG streams, so it is
reproducible and safe in DataLoader workers. It accepts one sample (in a ``Dataset``) or a batch
(on the device, each sample drawn apart). Deterministic kernels are in :mod:`.functional`.
"""

from pfdtrain.augment.adversarial import fgsm
from pfdtrain.augment.compose import Compose, RandomApply
from pfdtrain.augment.mixing import CutMix, Mixup
from pfdtrain.augment.patches import PatchCutout, PatchDropout, PatchJitter, PatchPermutation, PatchShift
from pfdtrain.augment.resize import Resize, resize_signal
from pfdtrain.augment.signal import AmplitudeScale, GaussianNoise, TimeMask, TimeShift
from pfdtrain.augment.spec import SpecAugment

__all__ = [
    "AmplitudeScale",
    "Compose",
    "CutMix",
    "GaussianNoise",
    "Mixup",
    "PatchCutout",
    "PatchDropout",
    "PatchJitter",
    "PatchPermutation",
    "PatchShift",
    "RandomApply",
    "Resize",
    "SpecAugment",
    "TimeMask",
    "TimeShift",
    "fgsm",
    "resize_signal",
]
