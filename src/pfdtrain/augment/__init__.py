"""Augmentations for signals ``[B, C, T]``, spectrograms ``[B, C, H, W]`` and patches ``[B, N, D]``."""
