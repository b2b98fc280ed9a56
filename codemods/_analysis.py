"""The fast pass: ``ast`` (about 10x cheaper than a libcst parse) finds every legacy reference,
with line numbers, and the facts the rewrite needs from the whole file before it starts:

* which local names are only ever *called* (their calls can be rewritten with the table's
  :class:`~pfdtrain.legacy_map.CallMap`, e.g. the deprecated ``create_optimizer``);
* which root names (``training``, ``packages``) are bound by plain ``import training.x`` statements,
  so that attribute chains ``training.x.Name`` must be rewritten, and which modules those chains use;
* whether anything changes at all: a file whose references are all unmapped is never handed to
  libcst.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from codemods._layout import LEGACY, PACKAGE, VENDORED, layout_for
from codemods._plan import (
    DEFAULT,
    DOUBLE_STAR,
    IMPORT_CALLS,
    KEYWORD,
    LEFT,
    POSITIONAL,
    REWRITTEN,
    STAR,
    UNMAPPED,
    Finding,
    Options,
    bind,
    call_map_candidates,
    compat_module,
    is_legacy_module,
    plan_from_import,
    plan_package_alias,
    plan_string,
    resolve,
    split_module,
    unmapped_message,
)
from pfdtrain.legacy_map import COMPAT_PACKAGE, CallMap, LegacyName, by_legacy, canonical


@dataclass
class Analysis:
    findings: list[Finding] = field(default_factory=list)
    #: Local names (from ``from``-imports) whose calls are rewritten.
    calls_ok: frozenset[str] = frozenset()
    #: Local name -> the call map its calls are rewritten with (the names of ``calls_ok``).
    call_maps: dict[str, CallMap] = field(default_factory=dict)
    #: Root local name -> legacy prefix as spelled (``"training"``, ``"packages.core.training"``) for
    #: roots bound by plain ``import training...`` statements.
    roots: dict[str, str] = field(default_factory=dict)
    #: Per root (or alias of the package, ``import training as T``): legacy modules that attribute
    #: chains use but no plain import names (``import training`` then ``training.cnn_losses.X``):
    #: the rewrite imports their compat modules.
    missing_modules: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Lines where the rewrite changes text (the top-level statements holding them are rewritten).
    edit_lines: set[int] = field(default_factory=set)
    #: Relative ``from`` statements that name the legacy package, by (dots, module as written): the
    #: canonical legacy module they import from, or None when their ``training`` aliases are the
    #: package itself (``from . import training`` in its parent).
    relative: dict[tuple[int, str], str | None] = field(default_factory=dict)
    #: The legacy package folder this file is part of (then nothing in it is rewritten).
    legacy_package: str | None = None
    #: The vendored copy that ``training...`` imports of this file resolve to (left as written).
    vendored: str | None = None
    #: The options the analysis was made for (the rewrite follows them).
    opts: Options = DEFAULT

    @property
    def changes(self) -> bool:
        return bool(self.edit_lines)


def _vendored_name(module: str, name: str) -> str | None:
    """The legacy-looking name a relative import into a vendored copy names, or None when it does not
    look like the legacy package (``from .utils import helper``)."""
    parts = module.split(".")
    if len(parts) >= 2 and is_legacy_module(parts[1]):
        return ".".join([*parts[:2], name])
    if len(parts) == 1 and is_legacy_module(name):
        return f"{module}.{name}"
    return None


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def call_arg_kinds(call: ast.Call) -> list[tuple[str, str | None]]:
    """Arguments of a call in source order as ``(kind, keyword)``."""
    items: list[tuple[str, str | None, int, int]] = [
        ((STAR if isinstance(arg, ast.Starred) else POSITIONAL), None, arg.lineno, arg.col_offset) for arg in call.args]
    items.extend(((DOUBLE_STAR if kw.arg is None else KEYWORD), kw.arg, kw.lineno, kw.col_offset)
                 for kw in call.keywords)
    items.sort(key=lambda item: (item[2], item[3]))
    return [(kind, keyword) for kind, keyword, _, _ in items]


#: The parent of the legacy package in its ``packages.core.training`` spelling.
PARENT = "packages.core"


def _is_bare(name: str) -> bool:
    """Spelled ``training...`` (may be a vendored copy), not ``packages.core.training...``."""
    return name == PACKAGE or name.startswith(PACKAGE + ".")


@dataclass(frozen=True)
class _Relative:
    """What one relative ``from`` statement names: ``module`` (canonical legacy module) when the
    module itself lies in a legacy package that is rewritten, ``parent`` when its ``training``
    aliases are that package, and ``vendored`` (the copy) when it reaches a copy left alone."""

    module: str | None = None
    parent: bool = False
    vendored: str | None = None
    vendored_module: str | None = None


class _Context:
    """Where this file sits in its repository (see :mod:`codemods._layout`)."""

    def __init__(self, path: str | None, opts: Options, root: str | None) -> None:
        self.opts = opts
        self.layout = layout_for(root)
        self.parts = None if path is None else self.layout.parts(path)
        self.legacy_package: str | None = None
        self.vendored: str | None = None  # the copy bare `training` imports resolve to, when left alone
        if self.parts is None:
            return
        inside = self.layout.package_of(self.parts)
        if inside is not None and inside.kind == LEGACY:
            self.legacy_package = inside.folder
            return
        reach = self.layout.bare_import(self.parts)
        if reach.kind == VENDORED and not opts.include_vendored:
            self.vendored = reach.folder

    def vendored_for(self, spelled: str) -> str | None:
        return self.vendored if _is_bare(spelled) else None

    def relative(self, node: ast.ImportFrom) -> _Relative:
        if self.parts is None:
            return _Relative()
        reach = self.layout.relative_import(self.parts, node.level, node.module, None)
        if reach is not None:
            if reach.kind == LEGACY or self.opts.include_vendored:
                return _Relative(module=reach.module)
            return _Relative(vendored=reach.folder, vendored_module=reach.module)
        if any(alias.name == PACKAGE for alias in node.names):
            reach = self.layout.relative_import(self.parts, node.level, node.module, PACKAGE)
            if reach is not None:
                if reach.kind == LEGACY or self.opts.include_vendored:
                    return _Relative(parent=True)
                return _Relative(vendored=reach.folder, vendored_module=PACKAGE)
        return _Relative()

    def vendored_message(self, folder: str, module: str | None) -> str:
        text = f"resolves to the vendored copy {folder}: left as written (--include-vendored rewrites it)"
        root = self.layout.root
        mod = module.split(".")[1] if module and "." in module else None
        if root is not None and mod is not None:
            here = root.joinpath(*folder.split("/"))
            if not (here / f"{mod}.py").exists() and not (here / mod).is_dir():
                text += (f"; the copy has no module {mod}: this import works only while another `training` "
                         "package (the legacy one) comes first on sys.path, so check it by hand")
        return text


def relative_key(level: int, module: str | None) -> tuple[int, str]:
    """How the rewrite finds a relative statement's plan again: its dots and module as written."""
    return level, module or ""


def analyse(tree: ast.Module, path: str | None = None, opts: Options = DEFAULT, root: str | None = None) -> Analysis:
    """Every legacy reference of a parsed file, and the facts the rewrite needs (see module doc).

    ``root``: the repository root being rewritten (decides vendored copies and where relative
    imports lead); None: judged from ``path`` alone, nothing looked up on disk."""
    result = Analysis(opts=opts)
    ctx = _Context(path, opts, root)
    result.vendored = ctx.vendored
    if ctx.legacy_package is not None:
        result.legacy_package = ctx.legacy_package
        return result
    imports: list[ast.Import | ast.ImportFrom] = []
    calls: list[ast.Call] = []
    names: list[ast.Name] = []
    attributes: list[ast.Attribute] = []
    strings: list[ast.Constant] = []
    defs: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.append(node)
        elif isinstance(node, ast.Attribute):
            attributes.append(node)
        elif isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str) and "training." in node.value:
                strings.append(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs.append(node.name)
        elif isinstance(node, ast.arg):
            defs.append(node.arg)
    imports.sort(key=lambda n: (n.lineno, n.col_offset))
    if not imports and not strings:
        return result

    # 0. Where each relative import leads; the absolute legacy module of each from-import.
    relatives: dict[int, _Relative] = {}
    from_modules: dict[int, str] = {}  # id(node) -> canonical-or-spelled absolute module, when legacy
    for node in imports:
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            resolved = relatives[id(node)] = ctx.relative(node)
            if resolved.module is not None:
                from_modules[id(node)] = resolved.module
        elif node.module == PARENT and any(alias.name == PACKAGE for alias in node.names):
            relatives[id(node)] = _Relative(parent=True)  # from packages.core import training
        elif node.module and ctx.vendored_for(node.module) is None:
            from_modules[id(node)] = node.module

    # 1. Which from-imported local names would need their calls rewritten?
    candidates: dict[str, CallMap] = {}
    entries: dict[str, LegacyName] = {}
    for node in imports:
        module = from_modules.get(id(node))
        if module is None:
            continue
        split = split_module(module)
        if split is None or split[1] is None:
            continue
        assert isinstance(node, ast.ImportFrom)
        for alias in node.names:
            entry = by_legacy(f"{split[0]}.{alias.name}")
            call_map = None if entry is None else call_map_candidates(entry, opts)
            if entry is not None and call_map is not None:
                candidates[alias.asname or alias.name] = call_map
                entries[alias.asname or alias.name] = entry
    calls_ok: set[str] = set()
    if candidates:
        good_calls: dict[str, int] = dict.fromkeys(candidates, 0)
        bad: set[str] = {name for name in defs if name in candidates}
        for call in calls:
            func = call.func
            if isinstance(func, ast.Name) and func.id in candidates:
                if bind(candidates[func.id], call_arg_kinds(call)) is None:
                    bad.add(func.id)
                else:
                    good_calls[func.id] += 1
        uses: dict[str, int] = dict.fromkeys(candidates, 0)
        for use in names:
            if use.id in uses:
                if not isinstance(use.ctx, ast.Load):
                    bad.add(use.id)
                uses[use.id] += 1
        calls_ok = {n for n in candidates if n not in bad and uses[n] == good_calls[n]}
    result.calls_ok = frozenset(calls_ok)
    for local in calls_ok:
        call_map = resolve(entries[local], opts, True).call
        if call_map is not None:
            result.call_maps[local] = call_map
    frozen_ok = result.calls_ok

    # 2. Imports.
    # local name -> canonical legacy module (import x as L / from training import x)
    module_aliases: dict[str, str] = {}
    lazy_locals: set[str] = set()  # bound to pfdtrain.compat itself: its modules load on attribute access
    explicit: dict[str, set[str]] = {}  # root -> legacy modules imported by plain `import <prefix>.<mod>`
    add = result.findings.append
    for node in imports:
        line = node.lineno
        if isinstance(node, ast.Import):
            for alias in node.names:
                split = split_module(alias.name)
                if split is None:
                    continue
                canon, mod = split
                copy = ctx.vendored_for(alias.name)
                if copy is not None:
                    add(Finding(line, "import", canon, None, LEFT, ctx.vendored_message(copy, canon), vendored=copy))
                    continue
                if canon == "training":
                    if alias.asname:
                        add(Finding(line, "import", canon, COMPAT_PACKAGE, REWRITTEN))
                        module_aliases[alias.asname] = canon
                    else:
                        root_name = alias.name.split(".")[0]
                        result.roots[root_name] = alias.name
                        explicit.setdefault(root_name, set())
                        add(Finding(line, "import", canon, COMPAT_PACKAGE, REWRITTEN,
                                    "the package itself: replaced by the compat modules its attribute uses need"))
                    result.edit_lines.add(line)
                elif mod is None:
                    add(Finding(line, "import", canon, None, UNMAPPED, unmapped_message(canon, module=True)))
                else:
                    message = ""
                    if opts.to_core:
                        message = (f"module import stays on {compat_module(mod)}: its names move to different core "
                                   "modules; import the names you use to let --to-core move them")
                    add(Finding(line, "import", canon, compat_module(mod), REWRITTEN, message))
                    result.edit_lines.add(line)
                    if alias.asname:
                        module_aliases[alias.asname] = canon
                    else:
                        root_name = alias.name.split(".")[0]
                        result.roots[root_name] = alias.name[: -len(mod) - 1]
                        explicit.setdefault(root_name, set()).add(mod)
            continue
        rel = relatives.get(id(node))
        kind = "relative-import" if node.level else "import"
        if rel is not None and rel.parent:
            result.relative[relative_key(node.level, node.module)] = None
            for alias in node.names:
                if alias.name != PACKAGE:
                    continue
                outcome = plan_package_alias(alias.asname)
                add(Finding(line, kind, "training", COMPAT_PACKAGE, REWRITTEN,
                            "the legacy package itself: bound to pfdtrain.compat (its modules load as attributes)"))
                result.edit_lines.add(line)
                module_aliases[outcome.asname or PACKAGE] = "training"
                lazy_locals.add(outcome.asname or PACKAGE)
            continue
        if rel is not None and rel.vendored is not None:
            dots = "." * node.level + (node.module or "")
            for alias in node.names:
                legacy = _vendored_name(rel.vendored_module or PACKAGE, alias.name)
                if legacy is not None:
                    add(Finding(line, kind, legacy, None, LEFT,
                                f"`from {dots} import {alias.name}` " + ctx.vendored_message(rel.vendored, legacy),
                                vendored=rel.vendored))
            continue
        if node.module and rel is None:
            copy = ctx.vendored_for(node.module)
            if copy is not None:
                canon = canonical(node.module)
                for alias in node.names:
                    named = canon if alias.name == "*" else f"{canon}.{alias.name}"
                    add(Finding(line, kind, named, None, LEFT, ctx.vendored_message(copy, canon), vendored=copy))
                continue
        module = from_modules.get(id(node))
        if module is None:
            continue
        if rel is not None:
            result.relative[relative_key(node.level, node.module)] = module
        outcomes = plan_from_import(module, [(a.name, a.asname) for a in node.names], opts, frozen_ok)
        if outcomes is None:
            continue
        for alias, outcome in zip(node.names, outcomes, strict=True):
            add(Finding(line, kind if rel is not None else outcome.kind, outcome.legacy, outcome.target,
                        outcome.status, outcome.message, outcome.behaviour_change))
            if outcome.status == REWRITTEN:
                result.edit_lines.add(line)
                if outcome.module == COMPAT_PACKAGE:  # from training import cnn_losses [as L]
                    module_aliases[alias.asname or alias.name] = outcome.legacy

    # 3. Attribute chains: through plain roots (rewritten) and through module aliases (reported).
    if result.roots or module_aliases:
        covered: set[int] = set()
        used: dict[str, dict[str, None]] = {}
        # document order; at one position the outer (longer) chain comes before its inner parts
        attributes.sort(key=lambda n: (n.lineno, n.col_offset, -(n.end_lineno or 0), -(n.end_col_offset or 0)))
        for node in attributes:
            if id(node) in covered:
                continue
            inner = node.value
            while isinstance(inner, ast.Attribute):
                covered.add(id(inner))
                inner = inner.value
            if not isinstance(inner, ast.Name) or (inner.id not in result.roots and inner.id not in module_aliases):
                continue
            dotted = _dotted(node)
            if dotted is None:
                continue
            if inner.id in module_aliases:
                module = module_aliases[inner.id]
                rest = dotted.split(".")[1:]
            else:
                prefix = result.roots[inner.id]
                if not (dotted == prefix or dotted.startswith(prefix + ".")):
                    continue
                tail = dotted[len(prefix) + 1:].split(".") if dotted != prefix else []
                if not tail:
                    continue
                module = canonical(prefix) + "." + tail[0]
                rest = tail[1:]
                if not is_legacy_module(tail[0]):
                    add(Finding(node.lineno, "attribute", module, None, UNMAPPED,
                                unmapped_message(module, module=True)))
                    continue
                used.setdefault(inner.id, {})[tail[0]] = None
                result.edit_lines.add(node.lineno)  # the module prefix is rewritten, whatever follows
            mod = module.split(".")[1] if "." in module else None
            if mod is None:  # alias of the package: T.<mod>.<Name>
                if not rest:
                    continue
                if not is_legacy_module(rest[0]):
                    add(Finding(node.lineno, "attribute", f"training.{rest[0]}", None, UNMAPPED,
                                unmapped_message(f"training.{rest[0]}", module=True)))
                    continue
                module, rest = f"training.{rest[0]}", rest[1:]
                used.setdefault(inner.id, {})[module.split(".")[1]] = None
                mod = module.split(".")[1]
            if not rest:
                add(Finding(node.lineno, "attribute", module, compat_module(mod), REWRITTEN))
                continue
            entry = by_legacy(f"{module}.{rest[0]}")
            if entry is None:
                add(Finding(node.lineno, "attribute", f"{module}.{rest[0]}", None, UNMAPPED,
                            unmapped_message(f"{module}.{rest[0]}")))
                continue
            message = ""
            if opts.to_core:
                message = "used through the module: stays on the compat module (import the name to move it)"
            if entry.compat_call is not None:
                message = (message + "; " if message else "") + (
                    f"called through the module: {entry.compat} keeps the legacy argument order")
            add(Finding(node.lineno, "attribute", entry.legacy, ".".join([entry.compat, *rest[1:]]),
                        REWRITTEN, message))
        for local, mods in used.items():
            if local in lazy_locals:
                continue
            if local in result.roots or module_aliases.get(local) == "training":
                missing = tuple(m for m in mods if m not in explicit.get(local, set()))
                if missing:
                    result.missing_modules[local] = missing

    # 4. Strings and call sites.
    import_args: set[int] = set()
    for call in calls:
        called = _dotted(call.func)
        if called in IMPORT_CALLS and call.args and isinstance(call.args[0], ast.Constant):
            import_args.add(id(call.args[0]))
        if frozen_ok and isinstance(call.func, ast.Name) and call.func.id in frozen_ok:
            entry = entries[call.func.id]
            target = resolve(entry, opts, True)
            add(Finding(call.lineno, "call", entry.legacy, target.dotted, REWRITTEN,
                        f"arguments passed by keyword in the order of {target.dotted}", target.behaviour_change))
            result.edit_lines.add(call.lineno)
    for node in strings:
        value = node.value
        assert isinstance(value, str)
        planned = plan_string(value, id(node) in import_args, opts)
        if planned is None:
            continue
        new, legacy, status, message = planned
        copy = ctx.vendored_for(value)
        if copy is not None:
            add(Finding(node.lineno, "string", legacy, None, LEFT, ctx.vendored_message(copy, legacy), vendored=copy))
            continue
        add(Finding(node.lineno, "string", legacy, new, status, message))
        if new is not None:
            result.edit_lines.add(node.lineno)

    result.findings.sort(key=lambda f: f.line)
    return result
