"""The libcst rewrite: one pass over a file that the ``ast`` analysis says must change.

Everything is edited in place on the concrete syntax tree, so formatting, comments, line endings
(CRLF) and the file's encoding (coding cookie, UTF-8 BOM) stay as they were. New statements (the
extra lines of a split import) are parsed with the module's own newline and indentation.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Sequence

import libcst as cst
from libcst import MaybeSentinel

from codemods._analysis import Analysis, relative_key
from codemods._plan import (
    DOUBLE_STAR,
    IMPORT_CALLS,
    KEYWORD,
    LEFT,
    POSITIONAL,
    STAR,
    AliasOutcome,
    bind,
    compat_module,
    plan_from_import,
    plan_package_alias,
    plan_string,
    split_module,
)
from pfdtrain.legacy_map import COMPAT_PACKAGE, CallMap

NameOrAttribute = cst.Name | cst.Attribute


def dotted_name(node: cst.CSTNode) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def name_node(dotted: str) -> NameOrAttribute:
    parts = dotted.split(".")
    node: NameOrAttribute = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def _asname(alias: cst.ImportAlias) -> str | None:
    if alias.asname is None or not isinstance(alias.asname.name, cst.Name):
        return None
    return alias.asname.name.value


def _is_bare(name: str) -> bool:
    """Spelled ``training...`` (may name a vendored copy), not ``packages.core.training...``."""
    return name == "training" or name.startswith("training.")


def _alias_text(name: str, asname: str | None) -> str:
    return name if asname is None else f"{name} as {asname}"


def _comments(ws: object) -> tuple[str | None, list[str]]:
    """(comment on the same line, comments on their own lines) of a whitespace node."""
    if isinstance(ws, cst.ParenthesizedWhitespace):
        own = [line.comment.value for line in ws.empty_lines if line.comment is not None]
        return (ws.first_line.comment.value if ws.first_line.comment is not None else None), own
    return None, []


def _no_comment(ws: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    if isinstance(ws, cst.ParenthesizedWhitespace) and ws.first_line.comment is not None:
        return ws.with_changes(first_line=ws.first_line.with_changes(comment=None, whitespace=cst.SimpleWhitespace("")))
    return ws


def _with_comment(ws: cst.BaseParenthesizableWhitespace, comment: cst.Comment | None,
                  spacing: cst.SimpleWhitespace) -> cst.BaseParenthesizableWhitespace:
    if comment is None:
        return _no_comment(ws)
    if isinstance(ws, cst.ParenthesizedWhitespace):
        return ws.with_changes(first_line=ws.first_line.with_changes(comment=comment, whitespace=spacing))
    return ws


def _own_comment(ws: object) -> tuple[cst.Comment | None, cst.SimpleWhitespace]:
    if isinstance(ws, cst.ParenthesizedWhitespace) and ws.first_line.comment is not None:
        return ws.first_line.comment, ws.first_line.whitespace
    return None, cst.SimpleWhitespace("  ")


_NO_SPACE_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


class LegacyRewriter(cst.CSTTransformer):
    """Rewrites one module as the analysis planned (see :func:`rewrite_source`)."""

    def __init__(self, module: cst.Module, analysis: Analysis) -> None:
        super().__init__()
        self.module = module
        self.opts = analysis.opts
        self.vendored = analysis.vendored
        self.relative = analysis.relative
        self.calls_ok = analysis.calls_ok
        self.call_maps = analysis.call_maps
        self.roots = analysis.roots
        self.missing = dict(analysis.missing_modules)
        self._extra: list[cst.SimpleStatementLine] = []

    # ---------------------------------------------------------------- statements that hold imports
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        self._extra = []
        return True

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine]:
        extra, self._extra = self._extra, []
        if not extra:
            return updated_node
        return cst.FlattenSentinel([updated_node, *extra])

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> bool:
        self._extra = []
        return True

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite,
                                   updated_node: cst.SimpleStatementSuite) -> cst.SimpleStatementSuite:
        extra, self._extra = self._extra, []
        if not extra:
            return updated_node
        body = list(updated_node.body)
        for line in extra:
            body.extend(line.body)
        return updated_node.with_changes(body=body)

    # ------------------------------------------------------------------------- import statements
    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        names: list[cst.ImportAlias] = []
        changed = False
        for alias in updated_node.names:
            dotted = dotted_name(alias.name)
            split = None if dotted is None else split_module(dotted)
            if split is None or dotted is None or (self.vendored is not None and _is_bare(dotted)):
                names.append(alias)
                continue
            canon, mod = split
            local = _asname(alias) or dotted.split(".")[0]
            extra = [cst.ImportAlias(name=name_node(compat_module(m))) for m in self.missing.pop(local, ())]
            if canon == "training":
                if alias.asname is not None or not extra:
                    names.append(alias.with_changes(name=name_node(COMPAT_PACKAGE)))
                names.extend(extra)
                changed = True
            elif mod is None:
                names.append(alias)
            else:
                names.append(alias.with_changes(name=name_node(compat_module(mod))))
                names.extend(extra)
                changed = True
        if not changed:
            return updated_node
        last = len(names) - 1
        for i, alias in enumerate(names):
            if i < last and isinstance(alias.comma, MaybeSentinel):
                names[i] = alias.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            elif i == last and not isinstance(alias.comma, MaybeSentinel):
                names[i] = alias.with_changes(comma=MaybeSentinel.DEFAULT)
        return updated_node.with_changes(names=names)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        spelled = None if updated_node.module is None else dotted_name(updated_node.module)
        star = isinstance(updated_node.names, cst.ImportStar)
        names = updated_node.names
        aliases: Sequence[cst.ImportAlias] = () if isinstance(names, cst.ImportStar) else names
        pairs: list[tuple[str, str | None]] = [("*", None)] if star else [
            (dotted_name(a.name) or "", _asname(a)) for a in aliases
        ]
        outcomes: list[AliasOutcome] | None
        key = relative_key(len(updated_node.relative), spelled)
        if key in self.relative:  # a relative import of the package, or `from packages.core import training`
            module = "." * key[0] + key[1]  # the statement as written, for names that stay
            legacy = self.relative[key]
            if legacy is None:  # from . import training: the package itself
                outcomes = [plan_package_alias(asname) if name == "training" else
                            AliasOutcome(None, name, asname, "relative-import", name, None, LEFT, "")
                            for name, asname in pairs]
            else:
                outcomes = plan_from_import(legacy, pairs, self.opts, self.calls_ok)
        elif updated_node.relative:
            return updated_node
        else:
            if spelled is None or (self.vendored is not None and _is_bare(spelled)):
                return updated_node
            module = spelled
            outcomes = plan_from_import(module, pairs, self.opts, self.calls_ok)
        if outcomes is None or all(o.module is None for o in outcomes):
            return updated_node
        groups: dict[str, list[int]] = {}
        for i, outcome in enumerate(outcomes):
            groups.setdefault(outcome.module or module, []).append(i)
        if len(groups) == 1:
            (target,) = groups
            if star:
                return updated_node.with_changes(module=name_node(target), relative=())
            new_aliases = [self._renamed(alias, pair, outcome)
                           for alias, pair, outcome in zip(aliases, pairs, outcomes, strict=True)]
            return updated_node.with_changes(module=name_node(target), relative=(), names=new_aliases)
        return self._split(updated_node, aliases, pairs, outcomes, groups)

    @staticmethod
    def _renamed(alias: cst.ImportAlias, pair: tuple[str, str | None], outcome: AliasOutcome) -> cst.ImportAlias:
        if outcome.module is None or (outcome.name, outcome.asname) == pair:
            return alias
        asname = None if outcome.asname is None else (
            alias.asname.with_changes(name=cst.Name(outcome.asname)) if alias.asname is not None
            else cst.AsName(name=cst.Name(outcome.asname)))
        return alias.with_changes(name=name_node(outcome.name), asname=asname)

    def _split(self, node: cst.ImportFrom, aliases: Sequence[cst.ImportAlias],
               pairs: list[tuple[str, str | None]], outcomes: list[AliasOutcome],
               groups: dict[str, list[int]]) -> cst.ImportFrom:
        """Names going to different modules: one statement per module, the first in place; comments
        travel with their names."""
        leading: list[list[str]] = [[] for _ in aliases]
        trailing: list[str | None] = [None] * len(aliases)
        dangling: list[str] = []
        before = node.lpar.whitespace_after if node.lpar is not None else None
        same_line, own = _comments(before)
        leading[0].extend(([same_line] if same_line else []) + own)
        for i, alias in enumerate(aliases):
            if isinstance(alias.comma, cst.Comma):
                after = alias.comma.whitespace_after
            elif node.rpar is not None:
                after = node.rpar.whitespace_before
            else:
                after = None
            same_line, own = _comments(after)
            trailing[i] = same_line
            if i + 1 < len(aliases):
                leading[i + 1].extend(own)
            else:
                dangling.extend(own)
        if isinstance(aliases[-1].comma, cst.Comma) and node.rpar is not None:
            same_line, own = _comments(node.rpar.whitespace_before)
            dangling.extend(([same_line] if same_line else []) + own)
        was_multiline = node.lpar is not None and "\n" in self.module.code_for_node(node)
        nl, indent = self.module.default_newline, self.module.default_indent
        statements: list[cst.SimpleStatementLine] = []
        for n, (target, indexes) in enumerate(groups.items()):
            items: list[tuple[str, list[str], str | None]] = []
            for i in indexes:
                outcome = outcomes[i]
                name, asname = pairs[i] if outcome.module is None else (outcome.name, outcome.asname)
                items.append((_alias_text(name, asname), leading[i], trailing[i]))
            comments = any(before_lines or beside for _, before_lines, beside in items) or (n == 0 and dangling)
            if not comments and (len(items) == 1 or not was_multiline):
                text = f"from {target} import {', '.join(code for code, _, _ in items)}{nl}"
            else:
                lines = [f"from {target} import ("]
                for code, before_lines, beside in items:
                    lines.extend(indent + comment for comment in before_lines)
                    lines.append(f"{indent}{code},{'  ' + beside if beside else ''}")
                if n == 0:
                    lines.extend(indent + comment for comment in dangling)
                lines.append(")")
                text = nl.join(lines) + nl
            statement = cst.parse_statement(text, config=self.module.config_for_parsing)
            assert isinstance(statement, cst.SimpleStatementLine)  # an import line
            statements.append(statement)
        self._extra.extend(statements[1:])
        first = statements[0].body[0]
        assert isinstance(first, cst.ImportFrom)
        return first.with_changes(semicolon=node.semicolon)

    # ------------------------------------------------------------------- uses, calls and strings
    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if not self.roots:
            return updated_node
        dotted = dotted_name(updated_node)
        if dotted is None:
            return updated_node
        root = dotted.split(".", 1)[0]
        prefix = self.roots.get(root)
        if prefix is None or not dotted.startswith(prefix + ".") or "." in dotted[len(prefix) + 1:]:
            return updated_node
        split = split_module(dotted)
        if split is None or split[1] is None:
            return updated_node
        new = name_node(compat_module(split[1]))
        return new.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if isinstance(func, cst.Name) and func.value in self.call_maps:
            return self._rewrite_call(updated_node, self.call_maps[func.value])
        if updated_node.args and dotted_name(func) in IMPORT_CALLS:
            first = updated_node.args[0]
            if first.keyword is None and isinstance(first.value, cst.SimpleString):
                new = self._string(first.value, import_argument=True)
                if new is not first.value:
                    return updated_node.with_changes(args=[first.with_changes(value=new), *updated_node.args[1:]])
        return updated_node

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.SimpleString:
        if "training." not in updated_node.value:
            return updated_node
        return self._string(updated_node, import_argument=False)

    def _string(self, node: cst.SimpleString, import_argument: bool) -> cst.SimpleString:
        prefix = node.prefix
        if "b" in prefix.lower():
            return node
        try:
            value = node.evaluated_value
        except Exception:  # pragma: no cover - libcst evaluates every valid literal
            return node
        if not isinstance(value, str):
            return node
        if self.vendored is not None and _is_bare(value):
            return node
        planned = plan_string(value, import_argument, self.opts)
        if planned is None or planned[0] is None:
            return node
        return node.with_changes(value=f"{prefix}{node.quote}{planned[0]}{node.quote}")

    def _rewrite_call(self, call: cst.Call, call_map: CallMap) -> cst.Call:
        kinds: list[tuple[str, str | None]] = []
        for arg in call.args:
            if arg.star == "*":
                kinds.append((STAR, None))
            elif arg.star == "**":
                kinds.append((DOUBLE_STAR, None))
            elif arg.keyword is not None:
                kinds.append((KEYWORD, arg.keyword.value))
            else:
                kinds.append((POSITIONAL, None))
        binding = bind(call_map, kinds)
        if binding is None:
            return call
        quote = next((a.value.quote for a in call.args if isinstance(a.value, cst.SimpleString)), None)
        items: list[tuple[cst.Arg, int | None]] = []
        for keyword, index, default in binding.order:
            if index is None:
                value = cst.parse_expression(default or "None")
                if quote is not None and isinstance(value, cst.SimpleString) and value.quote in ("'", '"'):
                    value = value.with_changes(value=quote + value.value[1:-1] + quote)  # the call's own style
                items.append((cst.Arg(value=value, keyword=cst.Name(keyword), equal=_NO_SPACE_EQUAL), None))
                continue
            arg = call.args[index]
            equal = arg.equal if arg.keyword is not None else _NO_SPACE_EQUAL
            items.append((arg.with_changes(keyword=cst.Name(keyword), equal=equal), index))
        items.extend((call.args[index], index) for index in binding.extra)
        return call.with_changes(args=self._relayout(call, items))

    @staticmethod
    def _relayout(call: cst.Call, items: list[tuple[cst.Arg, int | None]]) -> list[cst.Arg]:
        """Arguments in a new order on the old layout: the n-th argument takes the n-th comma and
        line break (the last keeps the closing layout); a comment stays with its argument."""
        original = list(call.args)
        n, m = len(original), len(items)
        if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
            middle_ws: cst.BaseParenthesizableWhitespace = call.whitespace_before_args
        else:
            middle_ws = cst.SimpleWhitespace(" ")
        middle = (original[n - 2].comma, original[n - 2].whitespace_after_arg) if n >= 2 else (
            cst.Comma(whitespace_after=middle_ws), cst.SimpleWhitespace(""))
        out = []
        for position, (arg, index) in enumerate(items):
            if position == m - 1:
                comma, after = original[n - 1].comma, original[n - 1].whitespace_after_arg
            elif position < n - 1:
                comma, after = original[position].comma, original[position].whitespace_after_arg
            else:
                comma, after = middle
            if position < m - 1 and not isinstance(comma, cst.Comma):
                comma = cst.Comma(whitespace_after=middle_ws)
            own, spacing = (None, cst.SimpleWhitespace("  "))
            if index is not None:
                src = original[index]
                own, spacing = _own_comment(src.comma.whitespace_after if isinstance(src.comma, cst.Comma) else None)
                if own is None:
                    own, spacing = _own_comment(src.whitespace_after_arg)
            if isinstance(comma, cst.Comma):
                comma = comma.with_changes(whitespace_after=_with_comment(comma.whitespace_after, own, spacing))
                after = _no_comment(after)
            else:
                after = _with_comment(after, own, spacing)
            out.append(arg.with_changes(comma=comma, whitespace_after_arg=after))
        return out


def rewrite_tree(module: cst.Module, analysis: Analysis) -> cst.Module:
    """Apply the planned rewrite to a parsed module (formatting, newlines and encoding kept)."""
    return module.visit(LegacyRewriter(module, analysis))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _spans(tree: ast.Module, lines: set[int]) -> list[tuple[int, int]]:
    """1-based inclusive line spans of the top-level statements (with decorators; statements that
    share a line merged) that contain one of ``lines``."""
    spans: list[tuple[int, int]] = []
    for stmt in tree.body:
        start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        end = stmt.end_lineno or stmt.lineno
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return [span for span in spans if any(span[0] <= line <= span[1] for line in lines)]


def _file_indent(tree: ast.Module, lines: list[str]) -> str:
    """The indentation of the file's first indented block (what libcst would detect), else 4 spaces."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and not isinstance(node, ast.Module) and isinstance(body[0], ast.stmt):
            first = body[0]
            if first.lineno != getattr(node, "lineno", None) and first.lineno - 1 < len(lines):  # not `if x: y`
                indent = lines[first.lineno - 1][: first.col_offset]
                if indent and not indent.strip(" \t"):
                    return indent
    return "    "


def rewrite_statements(source: bytes, tree: ast.Module, analysis: Analysis) -> bytes:
    """Rewrite only the top-level statements that hold a planned change, each parsed with libcst on
    its own and put back between the untouched text around it; the rest of the file is never
    parsed by libcst. Same result as :func:`rewrite_tree` on the whole module."""
    encoding = tokenize.detect_encoding(io.BytesIO(source).readline)[0]
    text = source.decode(encoding)
    lines = _LINE.findall(text)
    indent = _file_indent(tree, lines)
    rewriter: LegacyRewriter | None = None
    out: list[str] = []
    done = 0
    for start, end in _spans(tree, analysis.edit_lines):
        fragment = "".join(lines[start - 1:end])
        module = cst.parse_module(fragment)
        if not any(isinstance(stmt, cst.BaseCompoundStatement) for stmt in module.body):
            module = module.with_changes(default_indent=indent)  # no block here to learn it from
        if rewriter is None:
            rewriter = LegacyRewriter(module, analysis)
        rewriter.module = module
        out.append("".join(lines[done:start - 1]))
        out.append(module.visit(rewriter).code)
        done = end
    out.append("".join(lines[done:]))
    return "".join(out).encode(encoding)
