"""Drop-in legacy import paths (training.*, packages.core.training.*), served only when no real module exists."""
