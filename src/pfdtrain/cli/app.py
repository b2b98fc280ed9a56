"""The ``pfdtrain`` command: demo, migrate-checkpoint, codemod, scan, upgrade."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pfdtrain._version import __version__

app = typer.Typer(
    name="pfdtrain",
    help="Move LSTM-PFD training code to one Trainer: demo, checkpoint migration, codemods, scan, upgrade.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Options several commands share. List options default to None (typer gives [] when none is given).
Exclude = Annotated[list[str] | None, typer.Option(
    "--exclude", metavar="GLOB", help="Glob of paths to skip (relative path, file or folder name); repeatable.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pfdtrain {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    pass


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(
        "--workdir", "-w", help="Folder for the demo's copy of the example project.")] = Path("pfdtrain_demo"),
    project: Annotated[Path | None, typer.Option(
        "--project", exists=True, file_okay=False,
        help="Legacy-style project to use instead of examples/legacy_project.")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
) -> None:
    """Move a legacy-style project to pfdtrain: `pfdtrain upgrade` on a copy of it, then resume training."""
    from pfdtrain.cli.demo import DemoError, run_demo

    try:
        run_demo(workdir=workdir, project=project, progress=progress)
    except DemoError as exc:
        typer.echo(f"pfdtrain demo: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command("migrate-checkpoint")
def migrate_checkpoint(
    paths: Annotated[list[Path], typer.Argument(help="Checkpoint files, or folders searched recursively.")],
    include: Annotated[list[str] | None, typer.Option(
        "--include", metavar="GLOB",
        help="Files to take from folders (repeatable; default *.pt *.pth *.ckpt *.pth.tar).")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", metavar="GLOB", help="Files to skip in folders (repeatable).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Report each file's layout and what would change; write nothing.")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Write nothing; exit 1 if any file still needs migrating (for CI).")] = False,
    verify: Annotated[bool, typer.Option(
        "--verify", help="Kept for scripts: every output is verified.")] = False,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write v2 files under this folder (same relative paths) instead of in place.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write a JSON report of the run to this file.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Files migrated in parallel.")] = 1,
    allow_global: Annotated[list[str] | None, typer.Option(
        "--allow-global", metavar="NAME",
        help="Admit one more pickled global, e.g. numpy.core.multiarray._reconstruct (repeatable).")] = None,
    trust_unsafe: Annotated[bool, typer.Option(
        "--trust-unsafe", help="Load with full pickle (RUNS CODE in the file); only for files you trust.")] = False,
    downgrade: Annotated[str | None, typer.Option(
        "--downgrade", metavar="LAYOUT",
        help="Write v1 files of this legacy layout (e.g. cnn_trainer) under --output.")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show detection evidence and tracebacks of failures.")] = False,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", help="Progress bar (default: on a terminal).")] = None,
) -> None:
    """Upgrade legacy (v1) checkpoints to the v2 format: safely, atomically, with nothing lost.

    In place, each file gets a backup NAME.v1.bak made only after the new file is verified.
    Exit status: 0 all good, 1 a file failed (or --check found files to migrate), 2 bad options.
    """
    from pfdtrain.cli.migrate import run_migrate

    raise typer.Exit(run_migrate(
        paths, include=include or [], exclude=exclude or [], dry_run=dry_run, check=check, verify=verify,
        output=output, report=report, jobs=jobs, allow_global=allow_global or [], trust_unsafe=trust_unsafe,
        downgrade=downgrade, verbose=verbose, progress=progress,
    ))


@app.command()
def codemod(
    paths: Annotated[list[Path] | None, typer.Argument(
        exists=True, help="Files or folders to rewrite (folders: every *.py below); default: the current folder.",
        show_default=False)] = None,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff to stdout; write nothing.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if any file would change.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: automatic).")] = 0,
    exclude: Exclude = None,
    replace_deprecated: Annotated[bool, typer.Option(
        "--replace-deprecated",
        help="CHANGES BEHAVIOUR: rewrite calls of deprecated legacy functions into their replacement "
             "(create_optimizer(params, 'sgd') -> the new factory by keyword); their DeprecationWarning goes "
             "away. Listed in the summary.")] = False,
    to_core: Annotated[bool, typer.Option(
        "--to-core",
        help="CHANGES BEHAVIOUR: move names to the core API where the mapping table marks that safe (others "
             "keep their compat adapter, reported); implies --replace-deprecated. Listed in the summary.")] = False,
    include_vendored: Annotated[bool, typer.Option(
        "--include-vendored",
        help="Also rewrite imports that resolve to a vendored copy of the package (a training/ folder of its "
             "own, e.g. milestones/milestone-2/training); by default they are left as written and listed.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also list every rewritten reference.")] = False,
) -> None:
    """Rewrite legacy `training` imports, attribute uses and string references to pfdtrain.

    The default changes no behaviour: every name goes to its legacy-behaviour adapter in
    pfdtrain.compat (deprecated functions keep their warning), relative imports are resolved by the
    file's location, imports that resolve to a vendored copy of the package are left as written,
    and names without a mapping are listed and left. Exit status: 0 done, 1 --check found changes,
    3 a file failed (reported and skipped; the others are still rewritten).
    """
    from pfdtrain.cli.codemod import run_codemod

    raise typer.Exit(run_codemod(paths or [Path(".")], diff=diff, check=check, jobs=jobs, exclude=exclude or [],
                                 to_core=to_core, replace_deprecated=replace_deprecated,
                                 include_vendored=include_vendored, verbose=verbose))


@app.command()
def upgrade(
    path: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Root of the repository to migrate.")],
    test: Annotated[str | None, typer.Option(
        "--test", metavar="CMD",
        help="Your test command (run through the shell in PATH), e.g. 'python -m pytest -q': run before the "
             "rewrite with the drop-in shims and after it with PFDTRAIN_DISABLE_SHIMS=1; the two outcomes are "
             "compared.")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what would change; write nothing and run no test.")] = False,
    remove_legacy: Annotated[bool, typer.Option(
        "--remove-legacy",
        help="Move the legacy package (packages/core/training, or training/ at the root) to .pfdtrain-backup/ "
             "before the tests run again; it is put back if they do worse. Needs --test.")] = False,
    skip_checkpoints: Annotated[bool, typer.Option(
        "--skip-checkpoints", help="Leave v1 checkpoint files as they are.")] = False,
    migrate_checkpoints: Annotated[bool, typer.Option(
        "--migrate-checkpoints",
        help="Migrate the checkpoints even when code that reads them with v1 keys was found and no --test is "
             "given (by default they are then left as they are, and the lines to change are listed).")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=1.0, help="Seconds each test run may take before it is killed.")] = 1800.0,
    exclude: Exclude = None,
) -> None:
    """Migrate a repository end to end: scan, rewrite the code, migrate its checkpoints, compare its tests.

    The code rewrite is the default codemod run (behaviour unchanged; vendored copies of the package
    left as written). Checkpoints are migrated in place with verified NAME.v1.bak backups; when code
    that reads them with v1 keys is found, only with --test (restored if the tests do worse) or
    --migrate-checkpoints. It ends with a before/after table, what it left alone and why, and the
    lines each such reader should change. Exit status: 0 done, 1 the tests do worse after the
    migration (all undone that can be), 3 a step failed, 2 bad options.
    """
    from rich.console import Console

    from pfdtrain.cli.upgrade import UpgradeError, run_upgrade

    try:
        result = run_upgrade(path, test=test, dry_run=dry_run, remove_legacy=remove_legacy,
                             skip_checkpoints=skip_checkpoints, migrate_checkpoints=migrate_checkpoints,
                             timeout=timeout, exclude=exclude or [], console=Console(soft_wrap=True))
    except UpgradeError as exc:
        typer.echo(f"pfdtrain upgrade: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(result.exit_code)


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(exists=True, help="Repository (or file) to scan.")] = Path("."),
    as_json: Annotated[bool, typer.Option(
        "--json", help="Machine-readable report on stdout (schema pfdtrain.scan/1).")] = False,
    exclude: Exclude = None,
    include_vendored: Annotated[bool, typer.Option(
        "--include-vendored",
        help="Classify imports of vendored copies as `pfdtrain codemod --include-vendored` would.")] = False,
) -> None:
    """Report legacy imports by file and symbol, vendored copies, checkpoint layouts, code that reads
    checkpoints with v1 keys, and the commands to migrate.

    Reads only: nothing is written, no code is run, and no checkpoint is unpickled (layouts are read
    from the pickle opcodes and zip member names).
    """
    from pfdtrain.cli.scan import run_scan

    raise typer.Exit(run_scan(path, as_json=as_json, exclude=exclude or [], include_vendored=include_vendored))


def main(argv: list[str] | None = None) -> None:
    app(args=argv, prog_name="pfdtrain")


def migrate_checkpoint_main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    app(args=["migrate-checkpoint", *args], prog_name="migrate-checkpoint")
