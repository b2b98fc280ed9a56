"""The ``pfdtrain`` command: demo, migrate-checkpoint, codemod, scan."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from pfdtrain._version import __version__

app = typer.Typer(
    name="pfdtrain",
    help="Move LSTM-PFD training code to one Trainer: demo, checkpoint migration, codemods, scan.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

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
    workdir: Path = typer.Option(Path("pfdtrain_demo"), "--workdir", "-w",
                                 help="Folder for the demo's copy of the example project."),
    project: Path | None = typer.Option(None, "--project", exists=True, file_okay=False,
                                           help="Legacy-style project to use instead of examples/legacy_project."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Move a legacy-style project to pfdtrain: scan, codemod, migrate its checkpoints, resume training."""
    from pfdtrain.cli.demo import DemoError, run_demo

    try:
        run_demo(workdir=workdir, project=project, progress=progress)
    except DemoError as exc:
        typer.echo(f"pfdtrain demo: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command("migrate-checkpoint")
def migrate_checkpoint(
    paths: list[Path] = typer.Argument(..., help="Checkpoint files, or folders searched recursively."),
    include: list[str] = typer.Option(
        [], "--include", metavar="GLOB", help="Files to take from folders (repeatable; default *.pt *.pth *.ckpt *.pth.tar)."
    ),
    exclude: list[str] = typer.Option([], "--exclude", metavar="GLOB", help="Files to skip in folders (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report each file's layout and what would change; write nothing."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if any file still needs migrating (for CI)."),
    verify: bool = typer.Option(False, "--verify", help="Kept for scripts: every output is verified."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write v2 files under this folder (same relative paths) instead of in place."
    ),
    report: Path | None = typer.Option(None, "--report", help="Write a JSON report of the run to this file."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Files migrated in parallel."),
    allow_global: list[str] = typer.Option(
        [], "--allow-global", metavar="NAME", help="Admit one more pickled global, e.g. numpy.core.multiarray._reconstruct (repeatable)."
    ),
    trust_unsafe: bool = typer.Option(
        False, "--trust-unsafe", help="Load with full pickle (RUNS CODE in the file); only for files you trust."
    ),
    downgrade: str | None = typer.Option(
        None, "--downgrade", metavar="LAYOUT", help="Write v1 files of this legacy layout (e.g. cnn_trainer) under --output."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show detection evidence and tracebacks of failures."),
    progress: bool | None = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: on a terminal)."),
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


@app.command()
def codemod(
    paths: list[Path] = typer.Argument(..., exists=True, help="Files or folders to rewrite (folders: every *.py below)."),
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff to stdout; write nothing."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if any file would change."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Worker processes (0: automatic)."),
    exclude: list[str] = typer.Option([], "--exclude", help="Glob of paths to skip (relative path, file or folder name); repeatable."),
    to_core: bool = typer.Option(False, "--to-core", help="Move names to the core API where the mapping table marks that safe; others keep their compat adapter (reported)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also list every rewritten reference."),
) -> None:
    """Rewrite legacy `training` imports, attribute uses, string references and changed calls to pfdtrain.

    Default target: the legacy-behaviour adapters in pfdtrain.compat. Names without a mapping are
    listed and left as written. Exit status: 0 done, 1 --check found changes, 3 a file failed
    (reported and skipped; the others are still rewritten).
    """
    from pfdtrain.cli.codemod import run_codemod

    raise typer.Exit(run_codemod(paths, diff=diff, check=check, jobs=jobs, exclude=exclude, to_core=to_core,
                                 verbose=verbose))


@app.command()
def scan(
    path: Path = typer.Argument(Path("."), exists=True, help="Repository (or file) to scan."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable report on stdout (schema pfdtrain.scan/1)."),
    exclude: list[str] = typer.Option([], "--exclude", help="Glob of paths to skip; repeatable."),
) -> None:
    """Report legacy imports by file and symbol, checkpoint files by layout and the commands that migrate them.

    Reads only: nothing is written, and no checkpoint is unpickled (layouts are read from the pickle
    opcodes and zip member names).
    """
    from pfdtrain.cli.scan import run_scan

    raise typer.Exit(run_scan(path, as_json=as_json, exclude=exclude))


def main(argv: list[str] | None = None) -> None:
    app(args=argv, prog_name="pfdtrain")


def migrate_checkpoint_main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    app(args=["migrate-checkpoint", *args], prog_name="migrate-checkpoint")
