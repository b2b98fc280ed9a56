"""Which files are worth a libcst parse in the search for checkpoint readers.

A parse costs far more than reading the bytes, so a file is parsed only when its text could hold
what the search looks for:

* a call that may load a file: ``load(`` after a dot or a word boundary (``torch.load(path)``,
  ``T.load(``, ``load(`` imported from torch) or an import line naming ``load``, together with
  a string literal of a v1 key (``"model_state_dict"``) or ``load_state_dict`` (a bare state dict
  given to a model); or
* a function that returns what ``torch.load`` read (a loader helper such as
  ``CheckpointManager.load_checkpoint``: it may hold no v1 key itself, its callers do).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

_LOAD = re.compile(rb"(?<![\w])load[ \t]*\(|^[ \t]*(?:from|import)[ \t][^\n#]*(?<![\w])load(?![\w])", re.MULTILINE)
_TORCH = re.compile(rb"(?<![\w])torch(?![\w])")
_RETURN = re.compile(rb"(?<![\w])return(?![\w])")


@cache
def _key_literal(keys: frozenset[str]) -> re.Pattern[bytes]:
    names = b"|".join(re.escape(k.encode()) for k in sorted(keys, key=len, reverse=True))
    return re.compile(rb"""['"](?:""" + names + rb""")['"]""")


def may_define_loader(data: bytes) -> bool:
    """True when the file may define a function that returns what ``torch.load`` read."""
    return _TORCH.search(data) is not None and _LOAD.search(data) is not None and _RETURN.search(data) is not None


def mentions_keys(data: bytes, keys: frozenset[str]) -> bool:
    """True when the file holds a string literal of one of ``keys``, or calls ``load_state_dict``."""
    return _key_literal(keys).search(data) is not None or b"load_state_dict" in data


def may_read_checkpoints(data: bytes, keys: frozenset[str], loader_names: Iterable[str] = ()) -> bool:
    """True when the file may load a checkpoint and read it with one of ``keys`` (or as a state dict).

    ``loader_names``: names of loader helpers found so far (their calls load checkpoints too).
    """
    if not mentions_keys(data, keys):
        return False
    if _LOAD.search(data) is not None:
        return True
    return any(name.encode() in data for name in loader_names)


# ------------------------------------------------------------------------- statements worth parsing
_RELEVANT = re.compile(rb"(?<![\w])load\w*[ \t]*\(")


def narrowed(data: bytes, keys: frozenset[str], helpers: Iterable[str] = ()) -> bytes:
    """``data`` with the statements that cannot matter replaced by ``pass`` (line numbers kept).

    A statement matters when it calls something named ``load...`` (a load call, a loader helper,
    ``load_state_dict``), ``torch.load`` imported under another name or one of ``helpers`` (loader
    helpers with other names), holds a v1 key literal, imports or returns something. Classes and
    functions that matter keep their header and are narrowed statement by statement; any other
    statement is kept whole or becomes ``pass`` at its indentation (its further lines empty), so
    the rest of a long file costs no libcst parse. The statements are found with ``ast`` (a C
    parser, about ten times faster); a file it cannot parse is returned unchanged.
    """
    import ast

    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return data
    lines = data.splitlines(keepends=True)
    kept: set[int] = set()
    stubs: dict[int, int] = {}  # first line of a replaced statement -> its column
    key_literal = _key_literal(keys)

    def span(node: ast.stmt) -> tuple[int, int]:
        decorators = getattr(node, "decorator_list", ())
        return min([node.lineno, *(d.lineno for d in decorators)]), node.end_lineno or node.lineno

    aliases = [alias.asname.encode() for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and node.module in ("torch", "torch.serialization") for alias in node.names
               if alias.name == "load" and alias.asname]  # from torch import load as read_file
    aliases += [name.encode() for name in helpers]
    calls = re.compile(rb"(?<![\w])(?:" + b"|".join(map(re.escape, aliases)) + rb")[ \t]*\(") if aliases else None

    def matters(start: int, end: int) -> bool:
        chunk = b"".join(lines[start - 1:end])
        return (_RELEVANT.search(chunk) is not None or key_literal.search(chunk) is not None
                or (calls is not None and calls.search(chunk) is not None))

    def block(statements: list[ast.stmt]) -> None:
        for node in statements:
            start, end = span(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and matters(start, end):
                kept.update(range(start, node.body[0].lineno))  # decorators and header
                block(node.body)
            elif isinstance(node, (ast.Import, ast.ImportFrom, ast.Return)) or matters(start, end) or (
                    isinstance(node, (ast.If, ast.Try, ast.With))
                    and any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(node))):
                kept.update(range(start, end + 1))
            else:
                stubs[start] = node.col_offset

    block(tree.body)
    covered = {n for node in ast.walk(tree) if isinstance(node, ast.stmt)
               for n in range(span(node)[0], span(node)[1] + 1)}
    out = []
    for number, line in enumerate(lines, start=1):
        if number in kept or number not in covered:
            out.append(line)  # kept code, comments and blank lines
        elif number in stubs:
            out.append(line[:stubs[number]] + b"pass" + _ending(line))
        else:
            out.append(_ending(line))
    return b"".join(out)


def _ending(line: bytes) -> bytes:
    return line[len(line.rstrip(b"\r\n")):]
