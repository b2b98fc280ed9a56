"""``pfdtrain codemod PATH...``: rewrite a repository's legacy ``training`` imports and calls.

Steps: collect ``*.py`` files (hidden folders, ``__pycache__`` and virtual environments skipped;
``--exclude`` globs); read each once and keep only those whose text can reference the legacy
package (:mod:`codemods._prefilter`); analyse those with ``ast`` and parse with libcst only the
ones that change (in ``--jobs`` processes); then print a diff (``--diff``), report what would
change (``--check``) or replace each changed file atomically (temporary file in the same folder,
same permissions, ``os.replace``; a file edited since it was read is left alone).

Exit status: 0 done; 1 ``--check`` found files to rewrite; 3 a file could not be read, parsed or
written (the others are still processed). Typer's usage errors exit 2.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

EXIT_OK = 0
EXIT_WOULD_CHANGE = 1
EXIT_FAILED = 3

_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "dist-packages"})


# ------------------------------------------------------------------------------------ discovery
def _excluded(path: Path, root: Path, patterns: Sequence[str]) -> bool:
    if not patterns:
        return False
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path.name, pattern):
            return True
        if any(fnmatch.fnmatch(part, pattern) for part in Path(rel).parts):
            return True
        if rel.startswith(pattern + "/"):
            return True
    return False


def iter_python_files(paths: Iterable[Path], exclude: Sequence[str] = ()) -> Iterator[Path]:
    """``*.py`` files under ``paths`` in a stable order; a file named explicitly is always taken."""
    seen: set[Path] = set()
    for given in paths:
        if given.is_file():
            if given not in seen:
                seen.add(given)
                yield given
            continue
        root = given
        for folder, dirs, files in os.walk(root):
            here = Path(folder)
            dirs[:] = sorted(
                d for d in dirs
                if not d.startswith(".") and d not in _SKIP_DIRS and not (here / d / "pyvenv.cfg").exists()
                and not _excluded(here / d, root, exclude)
            )
            for name in sorted(files):
                if name.endswith(".py"):
                    path = here / name
                    if path not in seen and not _excluded(path, root, exclude):
                        seen.add(path)
                        yield path


# ------------------------------------------------------------------------------------- workers
@dataclass
class Outcome:
    """One candidate file after the rewrite (picklable; sent back from worker processes)."""

    path: str
    original: bytes | None = None  # only for changed files (to check nobody edited it since)
    new_source: bytes | None = None
    findings: list = field(default_factory=list)
    error: str | None = None


def process_file(path: str, to_core: bool) -> Outcome:
    from codemods import rewrite_source

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return Outcome(path, error=f"cannot read: {exc.strerror or exc}")
    result = rewrite_source(data, path, to_core)
    return Outcome(path, data if result.changed else None, result.new_source, result.findings, result.error)


def _process_chunk(paths: list[str], to_core: bool) -> list[Outcome]:
    return [process_file(path, to_core) for path in paths]


def run_files(paths: Sequence[str], to_core: bool, jobs: int) -> Iterator[Outcome]:
    """Process candidate files, in order, in ``jobs`` worker processes (1: in this process)."""
    if jobs <= 1 or len(paths) < 2:
        for path in paths:
            yield process_file(path, to_core)
        return
    size = max(1, min(32, len(paths) // (jobs * 4) or 1))
    chunks = [list(paths[i:i + size]) for i in range(0, len(paths), size)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for outcomes in pool.map(_process_chunk, chunks, [to_core] * len(chunks)):
            yield from outcomes


def auto_jobs(candidates: int) -> int:
    """Worker processes worth starting: none for a handful of files (start-up costs more)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, candidates // 16))


# -------------------------------------------------------------------------------------- writing
class ChangedOnDisk(Exception):
    pass


def replace_atomically(path: Path, data: bytes, expected: bytes | None = None) -> None:
    """Write ``data`` to a temporary file beside ``path`` (same permissions), fsync it, then rename
    it over ``path``: the file is the old one or the new one, never half. A symlink is followed
    (its target is replaced, the link stays). ``expected``: the bytes the rewrite was computed
    from; if the file no longer holds them, nothing is written (:class:`ChangedOnDisk`)."""
    from pfdtrain.checkpoint.atomic import atomic_write

    target = Path(os.path.realpath(path))
    if expected is not None and target.read_bytes() != expected:
        raise ChangedOnDisk(f"{path} changed on disk while the codemod ran; not written")
    atomic_write(target, lambda handle: handle.write(data))  # keeps the file's permissions

def unified_diff(path: str, old: bytes, new: bytes) -> str:
    """A ``git apply``-able diff; decoded with the file's own encoding when it declares one."""
    encoding = _encoding(old)
    old_text = old.decode(encoding, errors="surrogateescape")
    new_text = new.decode(encoding, errors="surrogateescape")
    lines = difflib.unified_diff(old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                 f"a/{path}", f"b/{path}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _encoding(data: bytes) -> str:
    import io
    import tokenize

    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        return "utf-8"


# ------------------------------------------------------------------------------------ reporting
@dataclass
class Summary:
    scanned: int = 0
    candidates: int = 0
    changed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    attention: int = 0
    unmapped: int = 0


def run_codemod(paths: Sequence[Path], *, diff: bool = False, check: bool = False, jobs: int = 0,
                exclude: Sequence[str] = (), to_core: bool = False, out: TextIO | None = None,
                err: TextIO | None = None, verbose: bool = False) -> int:
    """The whole command; returns the exit status. Diffs go to ``out`` (stdout), the report to
    ``err`` (stderr)."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    from codemods._plan import REWRITTEN, UNMAPPED
    from codemods._prefilter import may_reference_legacy

    summary = Summary()
    candidates: list[str] = []
    for path in iter_python_files(paths, exclude):
        summary.scanned += 1
        try:
            data = path.read_bytes()
        except OSError as exc:
            summary.failed.append((str(path), f"cannot read: {exc.strerror or exc}"))
            continue
        if may_reference_legacy(data, path.resolve()):
            candidates.append(str(path.resolve()))
    summary.candidates = len(candidates)
    workers = jobs if jobs > 0 else auto_jobs(len(candidates))
    base = Path.cwd()

    def show(p: str) -> str:
        with contextlib.suppress(ValueError):
            return Path(p).relative_to(base).as_posix()
        return p

    for outcome in run_files(candidates, to_core, workers):
        name = show(outcome.path)
        if outcome.error is not None:
            summary.failed.append((name, outcome.error))
            err.write(f"{name}: error: {outcome.error}; file skipped\n")
            continue
        for finding in outcome.findings:
            if finding.status == UNMAPPED:
                summary.unmapped += 1
            noteworthy = finding.status != REWRITTEN or (finding.message and finding.kind != "call")
            if noteworthy:
                summary.attention += 1
            if noteworthy or verbose:
                arrow = f" -> {finding.target}" if finding.target else ""
                note = f": {finding.message}" if finding.message else ""
                err.write(f"{name}:{finding.line}: {finding.status} {finding.legacy}{arrow}{note}\n")
        if outcome.new_source is None:
            continue
        summary.changed.append(name)
        if diff:
            out.write(unified_diff(name, outcome.original or b"", outcome.new_source))
        elif check:
            err.write(f"would rewrite {name}\n")
        else:
            try:
                replace_atomically(Path(outcome.path), outcome.new_source, outcome.original)
            except (OSError, ChangedOnDisk) as exc:
                summary.changed.pop()
                summary.failed.append((name, str(exc)))
                err.write(f"{name}: error: {exc}\n")
                continue
            err.write(f"rewrote {name}\n")
    verb = "would rewrite" if (diff or check) else "rewrote"
    parts = [f"{summary.scanned} Python files scanned", f"{summary.candidates} parsed",
             f"{verb} {len(summary.changed)}"]
    if summary.unmapped:
        parts.append(f"{summary.unmapped} legacy names without a mapping (listed above, left as written)")
    if summary.failed:
        parts.append(f"{len(summary.failed)} failed")
    err.write("pfdtrain codemod: " + "; ".join(parts) + ".\n")
    if summary.failed:
        return EXIT_FAILED
    if check and summary.changed:
        return EXIT_WOULD_CHANGE
    return EXIT_OK
