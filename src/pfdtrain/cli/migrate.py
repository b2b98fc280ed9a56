"""``migrate-checkpoint``: upgrade a folder of legacy checkpoints to v2, file by file, safely.

Every file is handled by :func:`pfdtrain.migration.migrate.migrate_file` (check, load
memory-mapped, detect, upgrade, write atomically, verify, back up). This module finds the files
(only regular files: anything else is skipped unopened), removes what killed runs left in their
folders, runs them (in parallel with ``--jobs``), shows progress, prints the summary, writes
``--report`` and chooses the exit status: 0 when all went well, 1 when a file failed or was
skipped or, with ``--check``, when a file still needs migrating.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import stat
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import torch
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from pfdtrain._version import __version__
from pfdtrain.checkpoint.atomic import atomic_write, is_temp_file, remove_stale_temp_files, stale_temp_files
from pfdtrain.checkpoint.errors import NotRegularFileError
from pfdtrain.checkpoint.regular_file import check_regular
from pfdtrain.migration.migrate import BACKUP_SUFFIX, FileResult, MigrationOptions, error_kind, migrate_file
from pfdtrain.migration.safe_load import OldTorchWarning, resolve_global
from pfdtrain.migration.upgraders import DOWNGRADERS

DEFAULT_INCLUDE: tuple[str, ...] = ("*.pt", "*.pth", "*.ckpt", "*.pth.tar")
EXIT_OK, EXIT_ATTENTION, EXIT_USAGE = 0, 1, 2
#: torch's own notices while reading legacy and quantized files: not the user's business.
_TORCH_NOISE = ("TypedStorage is deprecated", "quantized tensor creation functions")


class UsageError(Exception):
    """A bad combination of options: reported before any file is read (exit status 2)."""


@dataclass(frozen=True)
class Job:
    """One file to migrate and where its output goes (None: in place)."""

    source: Path
    target: Path | None


def collect_jobs(
    paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str], output: Path | None
) -> tuple[list[Job], list[FileResult]]:
    """Files to migrate (folders searched recursively) and results for paths that are not taken.

    Files named on the command line are always taken; files found in folders must match an
    ``include`` glob and no ``exclude`` glob (matched against the name and the path relative to
    the folder). Backups (``*.v1.bak``) and temporary files are never taken. Only regular files are
    ever taken: a named pipe, device, socket, folder or broken link (named, or found under a name
    that matches) is reported as skipped without being opened; a missing path as failed.
    """
    jobs: list[Job] = []
    others: list[FileResult] = []
    seen: set[Path] = set()
    targets: set[Path] = set()
    patterns = tuple(include) or DEFAULT_INCLUDE
    for root in paths:
        try:
            is_folder = stat.S_ISDIR(os.stat(root).st_mode)
        except OSError:
            is_folder = False
        if is_folder:
            found = []
            for path, relative in _walk(root):
                if _wanted(relative, patterns, exclude):
                    found.append((path, relative))
            if not found and _wanted(Path(root.name), patterns, ()):
                others.append(FileResult(
                    source=str(root), status="skipped", error_kind="not-a-file",
                    error=f"{root} is a folder named like a checkpoint file, and holds no checkpoint files "
                          f"({', '.join(patterns)}): nothing to migrate.",
                ))
                continue
        else:
            found = [(root, Path(root.name))]
        for file, relative in found:
            problem = _not_a_file(file)
            if problem is not None:
                others.append(problem)
                continue
            key = file.resolve()
            if key in seen:
                continue
            seen.add(key)
            target = None if output is None else output / relative
            if target is not None and target.resolve() in targets:
                others.append(FileResult(
                    source=str(file), error_kind="output-collision",
                    error=f"{file}: another input is already written to {target}; migrate them separately",
                ))
                continue
            if target is not None:
                targets.add(target.resolve())
            jobs.append(Job(file, target))
    return jobs, others


def _walk(root: Path) -> list[tuple[Path, Path]]:
    """Every entry below ``root`` (files, folders and anything else), sorted; hidden folders and
    symbolic links to folders are not entered."""
    found = []
    for folder, folders, files in os.walk(root, followlinks=False):
        here = Path(folder)
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(files) + folders:
            path = here / name
            found.append((path, path.relative_to(root)))
    return sorted(found)


def _not_a_file(path: Path) -> FileResult | None:
    """A result for a path that is missing or is not a regular file (it is never opened); else None."""
    try:
        check_regular(path)
    except FileNotFoundError:
        return FileResult(source=str(path), error_kind="missing", error=f"{path}: no such file or folder")
    except NotRegularFileError as exc:
        return FileResult(source=str(path), status="skipped", error_kind=exc.kind, error=str(exc))
    except OSError as exc:
        return FileResult(source=str(path), error_kind=error_kind(exc), error=f"{path}: {exc.strerror or exc}")
    return None


def _wanted(relative: Path, include: Sequence[str], exclude: Sequence[str]) -> bool:
    name, text = relative.name, relative.as_posix()
    if name.endswith(BACKUP_SUFFIX) or is_temp_file(name):
        return False
    if any(part.startswith(".") for part in relative.parts[:-1]):  # .git, .venv, ...
        return False

    def matches(patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(text, p) for p in patterns)

    return matches(include) and not matches(exclude)


def run_migrate(
    paths: Sequence[Path],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    dry_run: bool = False,
    check: bool = False,
    verify: bool = False,
    output: Path | None = None,
    report: Path | None = None,
    jobs: int = 1,
    allow_global: Sequence[str] = (),
    trust_unsafe: bool = False,
    downgrade: str | None = None,
    verbose: bool = False,
    progress: bool | None = None,
    console: Console | None = None,
    err_console: Console | None = None,
) -> int:
    """Run the command; returns the exit status (see the module docstring)."""
    if console is None or err_console is None:
        _escape_unprintable(sys.stdout, sys.stderr)
    console = console or Console(soft_wrap=True)
    err_console = err_console or Console(stderr=True, soft_wrap=True)
    try:
        options = _options(dry_run or check, verify, allow_global, trust_unsafe, downgrade, output)
    except UsageError as exc:
        err_console.print(f"[red]migrate-checkpoint: {escape(str(exc))}[/]")
        return EXIT_USAGE
    if trust_unsafe:
        err_console.print(
            "[bold red]WARNING: --trust-unsafe loads files with full pickle: any code inside them runs "
            "now, with your permissions. Use it only for files whose origin you trust.[/]"
        )
    job_list, results = collect_jobs(list(paths), include, exclude, output)
    _stale_temp_files(paths, job_list, console, remove=not options.dry_run)
    started = time.perf_counter()
    show_progress = err_console.is_terminal if progress is None else progress
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for noise in _TORCH_NOISE:
            warnings.filterwarnings("ignore", message=f".*{noise}")
        results += _run_jobs(job_list, options, jobs, show_progress, err_console)
    _print_warnings(caught, err_console)
    results.sort(key=lambda r: r.source)
    code = exit_status(results, check)
    _print_summary(results, console, options, check=check, verbose=verbose)
    if report is not None:
        write_report(report, results, code, time.perf_counter() - started, _mode(options, check, output),
                     verbose=verbose)
        console.print(f"Report written to {escape(str(report))}")
    return code


def _escape_unprintable(*streams: object) -> None:
    """File names the terminal's encoding cannot show (``ünï.pth`` under ``PYTHONIOENCODING=ascii``,
    undecodable bytes) are printed as backslash escapes instead of ending the run in a traceback."""
    for stream in streams:
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "strict") in ("strict", "surrogateescape"):
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")


def _stale_temp_files(paths: Sequence[Path], jobs: Sequence[Job], console: Console, *, remove: bool) -> None:
    """Remove (``remove``) or list what killed earlier runs left in the folders of this run."""
    folders: set[Path] = set()
    for root in paths:
        with contextlib.suppress(OSError):
            if stat.S_ISDIR(os.stat(root).st_mode):
                folders.add(root)
                folders.update(Path(folder) for folder, _, _ in os.walk(root) if not _hidden(Path(folder), root))
    for job in jobs:
        folders.add(job.source.parent)
        folders.add(job.source.resolve().parent)
        if job.target is not None:
            folders.add(job.target.parent)
    found: list[Path] = []
    for folder in sorted(folders):
        if remove:
            found += remove_stale_temp_files(folder)
        else:
            found += stale_temp_files(folder)
    if found:
        verb = "removed" if remove else "would remove"
        console.print(f"{verb} {len(found)} temporary file(s) left by an interrupted run: "
                      + ", ".join(escape(_display(str(p))) for p in found[:5]) + (", ..." if len(found) > 5 else ""),
                      highlight=False)


def _hidden(folder: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in folder.relative_to(root).parts)


def _options(
    dry_run: bool, verify: bool, allow_global: Sequence[str], trust_unsafe: bool,
    downgrade: str | None, output: Path | None,
) -> MigrationOptions:
    if downgrade is not None:
        if downgrade not in DOWNGRADERS:
            known = ", ".join(sorted(DOWNGRADERS))
            raise UsageError(f"--downgrade {downgrade}: unknown layout; choose one of: {known}")
        if output is None and not dry_run:
            raise UsageError("--downgrade needs --output DIR: a downgrade never replaces the v2 file")
    allowed = [(_resolve(name), name) for name in allow_global]
    return MigrationOptions(dry_run=dry_run, verify=verify, downgrade_to=downgrade,
                            allow_globals=tuple(allowed), trust_unsafe=trust_unsafe)


def _resolve(name: str) -> object:
    try:
        return resolve_global(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _run_jobs(
    job_list: list[Job], options: MigrationOptions, jobs: int, show_progress: bool, err_console: Console
) -> list[FileResult]:
    total = sum(_size(job.source) for job in job_list)
    columns = (
        TextColumn("[progress.description]{task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TextColumn("{task.fields[files]}"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, disable=not show_progress, transient=False) as bar:
        task = bar.add_task("migrating", total=total or None, files=f"0/{len(job_list)} files")
        done: Counter[str] = Counter()
        lock = threading.Lock()

        def run(job: Job) -> FileResult:
            size, sent = _size(job.source), [0]

            def on_bytes(n: int) -> None:
                step = max(0, min(n, size - sent[0]))
                sent[0] += step
                bar.advance(task, step)

            result = migrate_file(job.source, job.target, options, on_bytes=on_bytes)
            bar.advance(task, max(0, size - sent[0]))
            with lock:
                done["files"] += 1
                bar.update(task, files=f"{done['files']}/{len(job_list)} files")
            return result

        if jobs > 1 and len(job_list) > 1:
            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="migrate") as pool:
                return list(pool.map(run, job_list))
        return [run(job) for job in job_list]


def exit_status(results: Sequence[FileResult], check: bool) -> int:
    """1 when a file failed or was skipped, or (``--check``) when one still needs migrating; else 0."""
    if any(r.status in ("failed", "skipped") for r in results):
        return EXIT_ATTENTION
    if check and any(r.status.startswith("would-") for r in results):
        return EXIT_ATTENTION
    return EXIT_OK


def _print_warnings(caught: list[warnings.WarningMessage], err_console: Console) -> None:
    shown: set[str] = set()
    for warning in caught:
        text = str(warning.message)
        if text in shown or "--trust-unsafe" in text:  # the banner already said it, loudly
            continue
        shown.add(text)
        style = "yellow" if issubclass(warning.category, OldTorchWarning) else "dim"
        err_console.print(f"[{style}]warning: {escape(text)}[/]")


_LABELS = {
    "migrated": "migrated",
    "up-to-date": "already v2, left untouched",
    "would-migrate": "would migrate",
    "downgraded": "downgraded",
    "would-downgrade": "would downgrade",
    "skipped": "skipped",
    "failed": "FAILED",
}


def _print_summary(results: Sequence[FileResult], console: Console, options: MigrationOptions, *,
                   check: bool, verbose: bool) -> None:
    for result in results:
        name = _display(result.source)
        layout = f" (layout {escape(result.layout)})" if result.layout else ""
        if result.status == "skipped":
            console.print(f"[bold yellow]SKIPPED[/] {escape(name)}: [yellow]{result.error_kind}[/]: "
                          f"{escape(result.error or '')}", highlight=False)
            continue
        if result.status == "failed":
            console.print(f"[bold red]FAILED[/] {escape(name)}: [red]{result.error_kind}[/]: "
                          f"{escape(result.error or '')}",
                          highlight=False)
            if verbose and result.traceback:
                console.print(escape(result.traceback.rstrip()), highlight=False)
            continue
        detail = ""
        if result.target and _display(result.target) != name:
            detail += f" -> {escape(_display(result.target))}"
        if result.verified:
            detail += " (verified)"
        if result.backup:
            detail += f", backup {escape(_display(result.backup))}"
        console.print(f"{_LABELS.get(result.status, result.status)} {escape(name)}{layout}{detail}", highlight=False)
        if verbose:
            for line in result.evidence:
                console.print(f"    detected: {escape(line)}", highlight=False)
        if result.status.startswith("would-") and (options.dry_run or verbose):
            for line in result.changes:
                console.print(f"    {escape(line)}", highlight=False)
    console.print(summary_line(results, check=check), highlight=False)


def summary_line(results: Sequence[FileResult], *, check: bool = False) -> str:
    """E.g. ``29 files: 23 migrated, 6 failed (3 unsafe, 1 empty, 1 lfs-pointer, 1 truncated)``."""
    counts = Counter(r.status for r in results)
    parts = []
    for status in _LABELS:
        if not counts[status]:
            continue
        parts.append(f"{counts[status]} {_LABELS[status] if status != 'failed' else 'failed'}")
        if status in ("failed", "skipped"):
            kinds = Counter(r.error_kind for r in results if r.status == status)
            parts[-1] += " (" + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) + ")"
    text = f"{len(results)} file{'s' * (len(results) != 1)}: " + (", ".join(parts) or "nothing to do")
    if check and counts["would-migrate"]:
        text += f". --check: {counts['would-migrate']} file(s) still need migrating"
    return text


def write_report(path: Path, results: Sequence[FileResult], code: int, seconds: float, mode: str, *,
                 verbose: bool = False) -> None:
    """The run as JSON: versions, mode, counts by status and failure kind, and one entry per file."""
    entries = []
    for result in results:
        entry = result.to_dict()
        if not verbose:
            entry.pop("traceback", None)
        entries.append(entry)
    document = {
        "tool": "pfdtrain migrate-checkpoint",
        "versions": {"pfdtrain": str(__version__), "torch": str(torch.__version__), "python": sys.version.split()[0]},
        "mode": mode,
        "exit_status": code,
        "seconds": round(seconds, 3),
        "summary": {
            "files": len(results),
            "by_status": dict(Counter(r.status for r in results)),
            "failed_by_kind": dict(Counter(r.error_kind for r in results if r.status == "failed")),
            "skipped_by_kind": dict(Counter(r.error_kind for r in results if r.status == "skipped")),
            "bytes": sum(r.size for r in results),
        },
        "files": entries,
    }
    text = json.dumps(document, indent=2, default=str) + "\n"
    def write(handle: BinaryIO) -> None:
        handle.write(text.encode("utf-8"))

    atomic_write(path, write)


def _mode(options: MigrationOptions, check: bool, output: Path | None) -> str:
    if check:
        return "check"
    if options.dry_run:
        return "dry-run"
    if options.downgrade_to:
        return f"downgrade:{options.downgrade_to}"
    return "output" if output is not None else "in-place"


def _display(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


__all__: list[str] = ["collect_jobs", "exit_status", "run_migrate", "summary_line", "write_report"]
