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


@app.command("migrate-checkpoint")
def migrate_checkpoint(
    paths: list[Path] = typer.Argument(..., help="Checkpoint files, or folders searched recursively."),
    include: list[str] = typer.Option(
        [], "--include", metavar="GLOB", help="Files to take from folders (repeatable; default *.pt *.pth *.ckpt *.pth.tar)."
    ),
    exclude: list[str] = typer.Option([], "--exclude", metavar="GLOB", help="Files to skip in folders (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report each file's layout and what would change; write nothing."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if any file still needs migrating (for CI)."),
    verify: bool = typer.Option(False, "--verify", help="Reload each output and compare every tensor (always done in place)."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Write v2 files under this folder (same relative paths) instead of in place."
    ),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a JSON report of the run to this file."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Files migrated in parallel."),
    allow_global: list[str] = typer.Option(
        [], "--allow-global", metavar="NAME", help="Admit one more pickled global, e.g. numpy.core.multiarray._reconstruct (repeatable)."
    ),
    trust_unsafe: bool = typer.Option(
        False, "--trust-unsafe", help="Load with full pickle (RUNS CODE in the file); only for files you trust."
    ),
    downgrade: Optional[str] = typer.Option(
        None, "--downgrade", metavar="LAYOUT", help="Write v1 files of this legacy layout (e.g. cnn_trainer) under --output."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show detection evidence and tracebacks of failures."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: on a terminal)."),
) -> None:
    """Upgrade legacy (v1) checkpoints to the v2 format: safely, atomically, with nothing lost.

    In place, each file gets a backup NAME.v1.bak made only after the new file is verified.
    Exit status: 0 all good, 1 a file failed (or --check found files to migrate), 2 bad options.
    """
    from pfdtrain.cli.migrate import run_migrate

    raise typer.Exit(run_migrate(
        paths, include=include, exclude=exclude, dry_run=dry_run, check=check, verify=verify, output=output,
        report=report, jobs=jobs, allow_global=allow_global, trust_unsafe=trust_unsafe, downgrade=downgrade,
        verbose=verbose, progress=progress,
    ))


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
