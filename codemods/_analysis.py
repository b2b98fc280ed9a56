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
from pathlib import PurePath

from codemods._plan import (
    DOUBLE_STAR,
    IMPORT_CALLS,
    KEYWORD,
    LEFT,
    POSITIONAL,
    REWRITTEN,
    STAR,
    UNMAPPED,
    Finding,
    bind,
    call_map_candidates,
    compat_module,
    is_legacy_module,
    plan_from_import,
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

    @property
    def changes(self) -> bool:
        return bool(self.edit_lines)


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
    items = []
    for arg in call.args:
        items.append(((STAR if isinstance(arg, ast.Starred) else POSITIONAL), None, arg.lineno, arg.col_offset))
    for kw in call.keywords:
        items.append(((DOUBLE_STAR if kw.arg is None else KEYWORD), kw.arg, kw.lineno, kw.col_offset))
    items.sort(key=lambda item: (item[2], item[3]))
    return [(kind, keyword) for kind, keyword, _, _ in items]


def relative_target(path: str | None, level: int, module: str | None) -> str | None:
    """The dotted folder path a relative import reaches, from the file's own folders (best effort)."""
    if path is None:
        return None
    folders = list(PurePath(path).parts[:-1])
    if level - 1 > len(folders):
        return None
    base = folders[: len(folders) - (level - 1)]
    return ".".join([*base, *(module.split(".") if module else [])])


def _relative_is_legacy(path: str | None, node: ast.ImportFrom) -> str | None:
    """The legacy module a relative import reaches inside a vendored ``training`` folder, or None."""
    reached = relative_target(path, node.level, node.module)
    if reached is None:
        return None
    parts = reached.split(".")
    candidates = [parts + [alias.name] for alias in node.names] + [parts]
    for candidate in candidates:
        for i, part in enumerate(candidate):
            if part == "training" and (i + 1 == len(candidate) or is_legacy_module(candidate[i + 1])):
                tail = candidate[i + 1: i + 2]
                return ".".join(["training", *tail])
    return None


def analyse(tree: ast.Module, path: str | None = None, to_core: bool = False) -> Analysis:
    """Every legacy reference of a parsed file, and the facts the rewrite needs (see module doc)."""
    imports: list[ast.AST] = []
    calls: list[ast.Call] = []
    names: list[ast.Name] = []
    attributes: list[ast.Attribute] = []
    strings: list[ast.Constant] = []
    defs: list[str] = []
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Name:
            names.append(node)  # type: ignore[arg-type]
        elif kind is ast.Attribute:
            attributes.append(node)  # type: ignore[arg-type]
        elif kind is ast.Call:
            calls.append(node)  # type: ignore[arg-type]
        elif kind is ast.Constant:
            if type(node.value) is str and "training." in node.value:  # type: ignore[attr-defined]
                strings.append(node)  # type: ignore[arg-type]
        elif kind is ast.Import or kind is ast.ImportFrom:
            imports.append(node)
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            defs.append(node.name)  # type: ignore[attr-defined]
        elif kind is ast.arg:
            defs.append(node.arg)  # type: ignore[attr-defined]
    imports.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
    result = Analysis()
    if not imports and not strings:
        return result

    # 1. Which from-imported local names would need their calls rewritten?
    candidates: dict[str, CallMap] = {}
    entries: dict[str, LegacyName] = {}
    for node in imports:
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            split = split_module(node.module)
            if split is None or split[1] is None:
                continue
            for alias in node.names:
                entry = by_legacy(f"{split[0]}.{alias.name}")
                call_map = None if entry is None else call_map_candidates(entry, to_core)
                if call_map is not None:
                    candidates[alias.asname or alias.name] = call_map
                    entries[alias.asname or alias.name] = entry  # type: ignore[assignment]
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
        for name in names:
            if name.id in uses:
                if not isinstance(name.ctx, ast.Load):
                    bad.add(name.id)
                uses[name.id] += 1
        calls_ok = {n for n in candidates if n not in bad and uses[n] == good_calls[n]}
    result.calls_ok = frozenset(calls_ok)
    for name in calls_ok:
        call_map = resolve(entries[name], to_core, True).call
        if call_map is not None:
            result.call_maps[name] = call_map
    frozen_ok = result.calls_ok

    # 2. Imports.
    module_aliases: dict[str, str] = {}  # local name -> canonical legacy module (import x as L / from training import x)
    explicit: dict[str, set[str]] = {}  # root -> legacy modules imported by plain `import <prefix>.<mod>`
    add = result.findings.append
    for node in imports:
        line = node.lineno  # type: ignore[attr-defined]
        if isinstance(node, ast.Import):
            for alias in node.names:
                split = split_module(alias.name)
                if split is None:
                    continue
                canon, mod = split
                if canon == "training":
                    if alias.asname:
                        add(Finding(line, "import", canon, COMPAT_PACKAGE, REWRITTEN))
                        module_aliases[alias.asname] = canon
                    else:
                        root = alias.name.split(".")[0]
                        result.roots[root] = alias.name
                        explicit.setdefault(root, set())
                        add(Finding(line, "import", canon, COMPAT_PACKAGE, REWRITTEN,
                                    "the package itself: replaced by the compat modules its attribute uses need"))
                    result.edit_lines.add(line)
                elif mod is None:
                    add(Finding(line, "import", canon, None, UNMAPPED, unmapped_message(canon, module=True)))
                else:
                    message = ""
                    if to_core:
                        message = (f"module import stays on {compat_module(mod)}: its names move to different core "
                                   "modules; import the names you use to let --to-core move them")
                    add(Finding(line, "import", canon, compat_module(mod), REWRITTEN, message))
                    result.edit_lines.add(line)
                    if alias.asname:
                        module_aliases[alias.asname] = canon
                    else:
                        root = alias.name.split(".")[0]
                        result.roots[root] = alias.name[: -len(mod) - 1]
                        explicit.setdefault(root, set()).add(mod)
            continue
        assert isinstance(node, ast.ImportFrom)
        if node.level:
            legacy = _relative_is_legacy(path, node)
            if legacy is not None:
                dots = "." * node.level + (node.module or "")
                add(Finding(line, "relative-import", legacy, None, LEFT,
                            f"relative import `from {dots} import ...` inside a copy of the legacy package: "
                            "left as written (it imports the copy, not the legacy package)"))
            continue
        if not node.module:
            continue
        outcomes = plan_from_import(node.module, [(a.name, a.asname) for a in node.names], to_core, frozen_ok)
        if outcomes is None:
            continue
        for alias, outcome in zip(node.names, outcomes):
            add(Finding(line, outcome.kind, outcome.legacy, outcome.target, outcome.status, outcome.message))
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
                    add(Finding(node.lineno, "attribute", module, None, UNMAPPED, unmapped_message(module, module=True)))
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
            if to_core:
                message = "used through the module: stays on the compat module (import the name to move it)"
            if entry.compat_call is not None:
                message = (message + "; " if message else "") + (
                    f"called through the module: {entry.compat} keeps the legacy argument order")
            add(Finding(node.lineno, "attribute", entry.legacy, ".".join([entry.compat, *rest[1:]]),
                        REWRITTEN, message))
        for local, mods in used.items():
            if local in result.roots or module_aliases.get(local) == "training":
                missing = tuple(m for m in mods if m not in explicit.get(local, set()))
                if missing:
                    result.missing_modules[local] = missing

    # 4. Strings and call sites.
    import_args: set[int] = set()
    for call in calls:
        func = _dotted(call.func)
        if func in IMPORT_CALLS and call.args and isinstance(call.args[0], ast.Constant):
            import_args.add(id(call.args[0]))
        if frozen_ok and isinstance(call.func, ast.Name) and call.func.id in frozen_ok:
            entry = entries[call.func.id]
            target = resolve(entry, to_core, True)
            add(Finding(call.lineno, "call", entry.legacy, target.dotted, REWRITTEN,
                        f"arguments passed by keyword in the order of {target.dotted}"))
            result.edit_lines.add(call.lineno)
    for node in strings:
        planned = plan_string(node.value, id(node) in import_args, to_core)
        if planned is None:
            continue
        new, legacy, status, message = planned
        add(Finding(node.lineno, "string", legacy, new, status, message))
        if new is not None:
            result.edit_lines.add(node.lineno)

    result.findings.sort(key=lambda f: f.line)
    return result
