"""What a reader of v1 keys should change, as concrete replacements of its own lines.

Two ways out, both lossless:

* read with :func:`pfdtrain.checkpoint.load_any` (v1 and v2 files alike, always as v2) and the
  v2 place of each key: ``checkpoint["model_state_dict"]`` becomes
  ``checkpoint["model"]["state_dict"]``; the places come from the migration's own table
  (:mod:`pfdtrain.checkpoint_readers.v1_keys`), conversions included (``epoch``: v2 counts
  finished epochs, so the v1 value is ``checkpoint["training"]["epoch"] - 1``);
* keep the reader and give it v1 files: ``migrate-checkpoint --downgrade LAYOUT --output DIR``.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from pfdtrain.checkpoint_readers.analyse import KeyUse
from pfdtrain.checkpoint_readers.find import Reader
from pfdtrain.checkpoint_readers.v1_keys import WEIGHTS_PATH, KeyHome, key_homes, layout_keys

LOAD_ANY_IMPORT = "from pfdtrain.checkpoint import load_any"
LOAD_ANY_NOTE = f"{LOAD_ANY_IMPORT}: reads v1 and v2 files alike, as v2"
_SHOWN = 3


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` (as written, starting on ``line``) by ``new``; ``new`` is None where no
    mechanical replacement exists (a loader helper must be changed where it is defined)."""

    line: int
    old: str
    new: str | None
    note: str = ""

    def describe(self) -> str:
        old = _one_line(self.old)
        if self.new is None:
            return f"line {self.line}: {old}: {self.note}"
        note = f"   ({self.note})" if self.note else ""
        return f"line {self.line}: {old}  ->  {_one_line(self.new)}{note}"


def edits(reader: Reader) -> list[Edit]:
    """The replacements that make ``reader`` read v2 files (and v1 files, through ``load_any``)."""
    site = reader.site
    loaded = site.load_any if site.load_any is not None else site.code
    out: list[Edit] = []
    direct = site.bound_to is None
    if not direct:
        out.append(_call_edit(reader))
    for use in site.uses:
        receiver = loaded if direct else use.receiver
        home = key_homes()[use.key][0]
        out.append(Edit(use.line, use.code, v2_access(use, home, receiver), _note(use.key)))
    for line, code in zip(site.state_dict_lines, site.state_dict_code, strict=True):
        receiver = loaded if direct else code
        out.append(Edit(line, code, receiver + _path(WEIGHTS_PATH, '"'), "the weights"))
    if direct and site.helper is not None:
        out.insert(0, _call_edit(reader))
    return sorted(out, key=lambda e: e.line)


def _call_edit(reader: Reader) -> Edit:
    site = reader.site
    if site.load_any is not None:
        note = LOAD_ANY_NOTE + ("; it loads weights-only, pass trust_unsafe=True only for files you trust"
                                if site.unsafe else "")
        return Edit(site.line, site.code, site.load_any, note)
    local = [w for w in reader.helper_at if w.rsplit(":", 1)[0] == reader.path] or reader.helper_at
    where = f" (defined at {', '.join(local[:_SHOWN])}{', ...' if len(local) > _SHOWN else ''})" if local else ""
    return Edit(site.line, site.code, None,
                f"{site.helper}{where} returns what torch.load read: make it read with "
                "pfdtrain.checkpoint.load_any, then the keys below hold")


def v2_access(use: KeyUse, home: KeyHome, receiver: str) -> str:
    """``use`` rewritten to read ``home`` from a v2 checkpoint ``receiver`` (same quotes)."""
    q, path = use.quote, home.v2_path
    if use.kind in ("in", "not in"):
        if len(path) == 1:  # a top-level section: always there in v2, None when the writer had none
            return f"{receiver}{_path(path, q)} is {'not ' if use.kind == 'in' else ''}None"
        return f"{q}{path[-1]}{q} {use.kind} {receiver}{_path(path[:-1], q)}"
    if home.offset:
        # always present in v2 (a default is not needed); the v1 value is the v2 value minus the offset
        sign = "-" if home.offset > 0 else "+"
        value = f"{receiver}{_path(path[:-1], q)}.pop({q}{path[-1]}{q})" if use.kind == "pop" \
            else f"{receiver}{_path(path, q)}"
        return f"({value} {sign} {abs(home.offset)})"
    if use.kind in ("get", "pop"):
        args = ", ".join((f"{q}{path[-1]}{q}", *use.rest))
        return f"{receiver}{_path(path[:-1], q)}.{use.kind}({args})"
    return f"{receiver}{_path(path, q)}"


def downgrade_layouts(reader: Reader, found: Collection[str] = ()) -> list[str]:
    """Legacy layouts that hold every key the reader reads; those of the repository's files first."""
    wanted = set(reader.keys)
    if not wanted:
        return ["bare_state_dict"]
    fits = [name for name, keys in layout_keys().items() if wanted <= keys]
    return sorted(fits, key=lambda name: name not in found)


def advice_lines(reader: Reader, found: Collection[str] = ()) -> list[str]:
    """The edits, one per line, then the downgrade alternative."""
    lines = [edit.describe() for edit in edits(reader)]
    layouts = downgrade_layouts(reader, found)
    if layouts:
        others = f" (or {', '.join(layouts[1:_SHOWN])}{', ...' if len(layouts) > _SHOWN else ''}: the layout its " \
            "files were written in)" if len(layouts) > 1 else ""
        lines.append(f"or keep this code and give it v1 files: migrate-checkpoint --downgrade {layouts[0]} "
                     f"--output DIR FILE...{others}")
    return lines


def _note(key: str) -> str:
    homes = key_homes()[key]
    notes = [homes[0].note] if homes[0].note else []
    if len(homes) > 1:
        notes.append("; ".join(f"{h.dotted} in files of {', '.join(h.layouts)}" for h in homes[1:]))
    return "; ".join(notes)


def _path(path: tuple[str, ...], quote: str) -> str:
    return "".join(f"[{quote}{part}{quote}]" for part in path)


def _one_line(code: str) -> str:
    return " ".join(code.split())


def apply_edits(text: str, changes: Sequence[Edit]) -> str:
    """``text`` with ``changes`` made (each ``old`` must start on its line) and, when a change calls
    ``load_any``, its import added after the module's leading imports.

    Raises ValueError for a change that cannot be made mechanically (a loader helper, code that is
    not where the edit says, or two edits of the same text); nothing is half-applied then.
    """
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans: list[tuple[int, int, str]] = []
    for edit in changes:
        if edit.new is None:
            raise ValueError(f"line {edit.line}: {edit.note}")
        begin = text.find(edit.old, starts[edit.line - 1]) if 0 < edit.line < len(starts) else -1
        if begin < 0 or begin >= starts[edit.line]:
            raise ValueError(f"line {edit.line}: {_one_line(edit.old)!r} is not there")
        spans.append((begin, begin + len(edit.old), edit.new))
    spans.sort()
    for (_, end, _), (begin, _, _) in itertools.pairwise(spans):
        if begin < end:
            raise ValueError("two edits change the same code; make them by hand")
    for begin, end, new in reversed(spans):
        text = text[:begin] + new + text[end:]
    if any("load_any(" in new for _, _, new in spans) and LOAD_ANY_IMPORT not in text:
        text = _add_import(text, LOAD_ANY_IMPORT)
    return text


def _add_import(text: str, statement: str) -> str:
    import ast

    tree = ast.parse(text)
    last = 0
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            last = node.end_lineno or node.lineno
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):  # the docstring
            break
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    lines.insert(last, statement + newline)
    return "".join(lines)
