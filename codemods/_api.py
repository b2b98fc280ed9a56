"""Rewrite or analyse one file's bytes. Importing this module does not import libcst: a file is
parsed with libcst only when the ``ast`` analysis says that it changes."""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field

from codemods._analysis import Analysis, analyse
from codemods._plan import Finding, Options


@dataclass
class FileResult:
    """The outcome for one file: the new bytes (None when unchanged), findings, or an error."""

    path: str | None
    new_source: bytes | None = None
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    #: The legacy package folder the file is part of (left as written), else None.
    legacy_package: str | None = None

    @property
    def changed(self) -> bool:
        return self.new_source is not None


def parse_error(exc: BaseException) -> str:
    """One line that says where a file failed to parse."""
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno}, column {exc.offset})" if exc.lineno else ""
        return f"cannot parse: {exc.msg}{where}"
    message = getattr(exc, "message", None)
    if message is not None and hasattr(exc, "raw_line"):  # libcst.ParserSyntaxError
        return f"cannot parse: {message} (line {exc.raw_line}, column {exc.raw_column})"  # type: ignore[attr-defined]
    return f"cannot parse: {type(exc).__name__}: {exc}"


def _parse(source: bytes, path: str | None) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings (odd escapes) are for the user's own tools
        return ast.parse(source, filename=path or "<unknown>")


def options(to_core: bool = False, replace_deprecated: bool = False, include_vendored: bool = False) -> Options:
    return Options(to_core=to_core, replace_deprecated=replace_deprecated, include_vendored=include_vendored)


def analyse_source(source: bytes, path: str | None = None, to_core: bool = False, *,
                   replace_deprecated: bool = False, include_vendored: bool = False,
                   root: str | None = None) -> Analysis:
    """Parse with ``ast`` (raises SyntaxError/ValueError for a bad file) and analyse.

    ``root``: the repository root being rewritten; it decides which ``training`` folders are
    vendored copies and where relative imports lead (see :mod:`codemods._layout`)."""
    opts = options(to_core, replace_deprecated, include_vendored)
    return analyse(_parse(source, path), path, opts, root)


def rewrite_source(source: bytes, path: str | None = None, to_core: bool = False, *,
                   replace_deprecated: bool = False, include_vendored: bool = False,
                   root: str | None = None) -> FileResult:
    """Rewrite one file's bytes; bad input never raises (the error is in the result). Options as
    :class:`codemods._plan.Options`; ``root`` as in :func:`analyse_source`.

    Only the top-level statements that hold a change are handed to libcst (each parsed, rewritten
    and printed on its own, then put back between the untouched bytes around it), so the cost of
    a rewrite does not grow with the size of the file.
    """
    try:
        tree = _parse(source, path)
        analysis = analyse(tree, path, options(to_core, replace_deprecated, include_vendored), root)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        return FileResult(path, error=parse_error(exc))
    result = FileResult(path, findings=analysis.findings, legacy_package=analysis.legacy_package)
    if not analysis.changes:
        return result
    from codemods._rewrite import rewrite_statements

    try:
        new = rewrite_statements(source, tree, analysis)
    except Exception as exc:  # libcst.ParserSyntaxError, or an encoding libcst cannot handle
        result.error = parse_error(exc)
        return result
    if new != source:
        result.new_source = new
    return result
