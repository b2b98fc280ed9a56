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
from typing import BinaryIO, TextIO

from codemods._plan import Finding, Options

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
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    legacy_package: str | None = None


def process_file(path: str, opts: Options, root: str | None = None) -> Outcome:
    from codemods import rewrite_source

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return Outcome(path, error=f"cannot read: {exc.strerror or exc}")
    result = rewrite_source(data, path, opts.to_core, replace_deprecated=opts.replace_deprecated,
                            include_vendored=opts.include_vendored, root=root)
    return Outcome(path, data if result.changed else None, result.new_source, result.findings, result.error,
                   result.legacy_package)


def _process_chunk(items: list[tuple[str, str | None]], opts: Options) -> list[Outcome]:
    return [process_file(path, opts, root) for path, root in items]


def run_files(items: Sequence[tuple[str, str | None]], opts: Options, jobs: int) -> Iterator[Outcome]:
    """Process candidate ``(file, root)`` pairs, in order, in ``jobs`` worker processes (1: here)."""
    if jobs <= 1 or len(items) < 2:
        for path, root in items:
            yield process_file(path, opts, root)
        return
    size = max(1, min(32, len(items) // (jobs * 4) or 1))
    chunks = [list(items[i:i + size]) for i in range(0, len(items), size)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for outcomes in pool.map(_process_chunk, chunks, [opts] * len(chunks)):
            yield from outcomes


def auto_jobs(candidates: int) -> int:
    """Worker processes worth starting: none for a handful of files (start-up costs more)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, candidates // 16))


def root_of(given: Path) -> Path:
    """The root a path is rewritten under: a folder is its own root; a file's root is the current
    folder when the file lies below it (so its repository's vendored copies are seen), else its
    own folder."""
    given = given.resolve()
    if given.is_dir():
        return given
    cwd = Path.cwd().resolve()
    return cwd if given.is_relative_to(cwd) else given.parent


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
    def write(handle: BinaryIO) -> None:
        handle.write(data)

    atomic_write(target, write)  # keeps the file's permissions

def unified_diff(path: str, old: bytes, new: bytes) -> str:
    """A ``git apply``-able diff; decoded with the file's own encoding when it declares one."""
    encoding = _encoding(old)
    old_text = old.decode(encoding, errors="surrogateescape")
    new_text = new.decode(encoding, errors="surrogateescape")
    lines = difflib.unified_diff(old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                 f"a/{path}", f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


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
    """What one run did (also read by ``pfdtrain upgrade`` and the demo)."""

    scanned: int = 0
    candidates: int = 0
    changed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    attention: int = 0
    unmapped: list[tuple[str, Finding]] = field(default_factory=list)
    #: vendored copy -> (file, finding) left as written because they resolve to it
    vendored: dict[str, list[tuple[str, Finding]]] = field(default_factory=dict)
    #: legacy package folder -> files of it seen (left as written)
    legacy_packages: dict[str, int] = field(default_factory=dict)
    #: rewrites that change behaviour (opt-in only): (file, finding)
    behaviour_changes: list[tuple[str, Finding]] = field(default_factory=list)
    #: rewritten references: (file, finding)
    rewritten: list[tuple[str, Finding]] = field(default_factory=list)
    #: changed file -> (lines added, lines removed)
    line_changes: dict[str, tuple[int, int]] = field(default_factory=dict)

    def exit_code(self, check: bool) -> int:
        if self.failed:
            return EXIT_FAILED
        if check and self.changed:
            return EXIT_WOULD_CHANGE
        return EXIT_OK


def collect_candidates(paths: Sequence[Path], exclude: Sequence[str], summary: Summary) -> list[tuple[str, str]]:
    """``(file, root)`` for every ``*.py`` file whose text may reference the legacy package."""
    from codemods._prefilter import may_reference_legacy

    candidates: list[tuple[str, str]] = []
    for given in paths:
        root = str(root_of(given))
        for path in iter_python_files([given], exclude):
            summary.scanned += 1
            try:
                data = path.read_bytes()
            except OSError as exc:
                summary.failed.append((str(path), f"cannot read: {exc.strerror or exc}"))
                continue
            if may_reference_legacy(data, path.resolve()):
                candidates.append((str(path.resolve()), root))
    summary.candidates = len(candidates)
    return candidates


def _line_changes(old: bytes, new: bytes) -> tuple[int, int]:
    encoding = _encoding(old)
    plus = minus = 0
    for line in difflib.unified_diff(old.decode(encoding, errors="surrogateescape").splitlines(),
                                     new.decode(encoding, errors="surrogateescape").splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            plus += 1
        elif line.startswith("-") and not line.startswith("---"):
            minus += 1
    return plus, minus


def _describe(finding: Finding) -> str:
    arrow = f" -> {finding.target}" if finding.target else ""
    note = f": {finding.message}" if finding.message else ""
    return f"{finding.status} {finding.legacy}{arrow}{note}"


def rewrite_paths(paths: Sequence[Path], *, diff: bool = False, check: bool = False, jobs: int = 0,
                  exclude: Sequence[str] = (), opts: Options | None = None, out: TextIO | None = None,
                  err: TextIO | None = None, verbose: bool = False) -> Summary:
    """The whole run without the exit status (see :func:`run_codemod`)."""
    from codemods._layout import clear_caches
    from codemods._plan import DEFAULT, REWRITTEN, UNMAPPED

    opts = DEFAULT if opts is None else opts
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    clear_caches()
    summary = Summary()
    candidates = collect_candidates(paths, exclude, summary)
    workers = jobs if jobs > 0 else auto_jobs(len(candidates))
    base = Path.cwd()

    def show(p: str) -> str:
        with contextlib.suppress(ValueError):
            return Path(p).relative_to(base).as_posix()
        return p

    for outcome in run_files(candidates, opts, workers):
        name = show(outcome.path)
        if outcome.error is not None:
            summary.failed.append((name, outcome.error))
            err.write(f"{name}: error: {outcome.error}; file skipped\n")
            continue
        if outcome.legacy_package is not None:
            summary.legacy_packages[outcome.legacy_package] = summary.legacy_packages.get(outcome.legacy_package, 0) + 1
            continue
        for finding in outcome.findings:
            if finding.status == UNMAPPED:
                summary.unmapped.append((name, finding))
            if finding.vendored is not None:
                summary.vendored.setdefault(finding.vendored, []).append((name, finding))
            if finding.status == REWRITTEN:
                summary.rewritten.append((name, finding))
                if finding.behaviour_change:
                    summary.behaviour_changes.append((name, finding))
            noteworthy = finding.status != REWRITTEN or (finding.message and finding.kind != "call")
            if noteworthy:
                summary.attention += 1
            if noteworthy or verbose:
                err.write(f"{name}:{finding.line}: {_describe(finding)}\n")
        if outcome.new_source is None:
            continue
        summary.changed.append(name)
        summary.line_changes[name] = _line_changes(outcome.original or b"", outcome.new_source)
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
    _report(summary, diff or check, err)
    return summary


def _report(summary: Summary, dry: bool, err: TextIO) -> None:
    w = err.write
    for folder, files in sorted(summary.legacy_packages.items()):
        w(f"{folder}: the legacy package itself ({files} file(s) that mention it): left as written; "
          "delete it once nothing imports it\n")
    if summary.behaviour_changes:
        w(f"Behaviour-changing rewrites ({len(summary.behaviour_changes)}, opted in):\n")
        for name, finding in summary.behaviour_changes:
            w(f"  {name}:{finding.line}: {finding.legacy} -> {finding.target}: {finding.behaviour_change}\n")
    verb = "would rewrite" if dry else "rewrote"
    parts = [f"{summary.scanned} Python files scanned", f"{summary.candidates} parsed",
             f"{verb} {len(summary.changed)}"]
    if summary.vendored:
        copies = ", ".join(f"{folder}: {len(items)}" for folder, items in sorted(summary.vendored.items()))
        total = sum(len(items) for items in summary.vendored.values())
        parts.append(f"{total} references left because they resolve to vendored copies ({copies}; "
                     "--include-vendored rewrites them)")
    if summary.unmapped:
        parts.append(f"{len(summary.unmapped)} legacy names without a mapping (listed above, left as written)")
    if summary.failed:
        parts.append(f"{len(summary.failed)} failed")
    w("pfdtrain codemod: " + "; ".join(parts) + ".\n")


def run_codemod(paths: Sequence[Path], *, diff: bool = False, check: bool = False, jobs: int = 0,
                exclude: Sequence[str] = (), to_core: bool = False, replace_deprecated: bool = False,
                include_vendored: bool = False, out: TextIO | None = None, err: TextIO | None = None,
                verbose: bool = False) -> int:
    """The whole command; returns the exit status. Diffs go to ``out`` (stdout), the report to
    ``err`` (stderr)."""
    opts = Options(to_core=to_core, replace_deprecated=replace_deprecated, include_vendored=include_vendored)
    summary = rewrite_paths(paths, diff=diff, check=check, jobs=jobs, exclude=exclude, opts=opts, out=out,
                            err=err, verbose=verbose)
    return summary.exit_code(check)
