"""Command-line interface (typer): ``pfdtrain`` and ``migrate-checkpoint``."""
