"""The project's own code: a small 1-D CNN and synthetic bearing signals (no pfdtrain imports)."""
