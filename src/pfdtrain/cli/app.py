"""The ``pfdtrain`` command. Commands whose issue has not landed say so and exit 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from pfdtrain._version import __version__

app = typer.Typer(
    name="pfdtrain",
    help="Move LSTM-PFD training code to one Trainer: demo, checkpoint migration, codemods, scan.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

NOT_YET = 2


def _not_implemented(command: str, issue: str) -> None:
    typer.echo(
        f"pfdtrain {command}: not implemented yet in pfdtrain {__version__} ({issue}). "
        "Nothing was read or written.",
        err=True,
    )
    raise typer.Exit(NOT_YET)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pfdtrain {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    pass


@app.command()
def demo(
    workdir: Path = typer.Option(Path("pfdtrain_demo"), "--workdir", "-w", help="Folder for the run's checkpoint and logs."),
    epochs: int = typer.Option(5, min=1, help="Training epochs."),
    samples_per_class: int = typer.Option(48, min=2, help="Generated signals per fault class."),
    seed: int = typer.Option(0, help="Seed for data, weights and shuffling."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show the progress bar."),
) -> None:
    """Train a small 1-D CNN on generated 11-class vibration signals; print metrics and the checkpoint path."""
    from pfdtrain.cli.demo import run_demo

    run_demo(workdir=workdir, epochs=epochs, samples_per_class=samples_per_class, seed=seed, progress=progress)


@app.command("migrate-checkpoint", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def migrate_checkpoint(ctx: typer.Context) -> None:
    """Upgrade legacy checkpoints to the v2 format (coming with the checkpoint-migration issue)."""
    _not_implemented("migrate-checkpoint", "issue #7")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def codemod(ctx: typer.Context) -> None:
    """Rewrite legacy imports and calls in a repository (coming with the codemod issue)."""
    _not_implemented("codemod", "issue #8")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def scan(ctx: typer.Context) -> None:
    """Report legacy imports and checkpoint files in a repository (coming with the codemod issue)."""
    _not_implemented("scan", "issue #8")


def main(argv: Optional[list[str]] = None) -> None:
    app(args=argv, prog_name="pfdtrain")


def migrate_checkpoint_main(argv: Optional[list[str]] = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    app(args=["migrate-checkpoint", *args], prog_name="migrate-checkpoint")
