"""Decisions: where each legacy reference goes. Pure functions of the mapping table.

Both passes use them: the fast ``ast`` analysis (findings with line numbers, and whether the file
needs the libcst rewrite at all) and the libcst rewrite itself, so the two can never disagree.
Nothing here holds a mapping of its own: every target, call signature and note comes from
:mod:`pfdtrain.legacy_map`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pfdtrain.legacy_map import (
    COMPAT_PACKAGE,
    LEGACY_MODULES,
    NEVER_EXISTED,
    CallMap,
    LegacyName,
    by_legacy,
    canonical,
    closest,
)

_MODULES = frozenset(LEGACY_MODULES)
#: A string literal that is a whole dotted path under a legacy prefix.
DOTTED_LEGACY = re.compile(r"(?:packages\.core\.)?training(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
#: Callables whose first argument is a module name (a module-only string is rewritten only there:
#: elsewhere ``"training.cnn_trainer"`` may be a logger name, which the compat adapters keep).
IMPORT_CALLS = frozenset({"import_module", "importlib.import_module", "__import__"})

# Statuses of a finding.
REWRITTEN = "rewritten"  # the reference now points at `target`
UNMAPPED = "unmapped"  # no mapping: left as written, listed for a human (never guessed)
LEFT = "left"  # deliberately left as written (vendored copy, module-name string, ...)


@dataclass(frozen=True)
class Options:
    """What a run may change. The default changes no behaviour: every name goes to its
    legacy-behaviour adapter, warnings included. ``replace_deprecated`` rewrites calls of deprecated
    legacy functions into their replacement (the deprecation warning goes away); ``to_core`` moves
    names to the core API where the table allows it (implies ``replace_deprecated``);
    ``include_vendored`` also rewrites imports that resolve to a vendored copy of the package."""

    to_core: bool = False
    replace_deprecated: bool = False
    include_vendored: bool = False

    @property
    def rewrite_calls(self) -> bool:
        return self.to_core or self.replace_deprecated


DEFAULT = Options()


@dataclass(frozen=True)
class Finding:
    """One legacy reference in a file and what the codemod does with it."""

    line: int
    kind: str  # import | attribute | string | call | star-import | relative-import
    legacy: str  # canonical legacy dotted name (``training.<module>[.<Name>]``) or the text found
    target: str | None
    status: str  # rewritten | unmapped | left
    message: str = ""
    #: Why the rewrite changes what the code does (opt-in rewrites only); "" when it does not.
    behaviour_change: str = ""
    #: The vendored copy (``milestones/milestone-2/training``) the reference resolves to, if any.
    vendored: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "kind": self.kind, "legacy": self.legacy, "target": self.target,
                "status": self.status, "message": self.message, "behaviour_change": self.behaviour_change,
                "vendored": self.vendored}


@dataclass(frozen=True)
class Target:
    """Where one legacy name goes: ``dotted`` target, the call rewrite it needs, why compat was
    kept when ``--to-core`` asked for the core (None otherwise), and what changes in behaviour."""

    dotted: str
    call: CallMap | None
    why_compat: str | None = None
    behaviour_change: str = ""


def call_map_candidates(entry: LegacyName, opts: Options) -> CallMap | None:
    """The call map a name needs if every use is a rewritable call (None: no call rewrite applies)."""
    if opts.to_core:
        core = entry.core_call_map
        if core is not None and not core.unchanged:
            return core
    return entry.compat_call if opts.rewrite_calls else None


def _deprecated_note(entry: LegacyName, compat: CallMap) -> str:
    replacement = compat.target or entry.compat
    return (f"deprecated legacy function: kept on {entry.compat}, which warns like the legacy one; "
            f"--replace-deprecated rewrites its calls to {replacement} (the warning goes away)")


def resolve(entry: LegacyName, opts: Options, calls_ok: bool) -> Target:
    """The target of one table entry. ``calls_ok``: every use in the file is a call the codemod can
    rewrite with the entry's call map (needed when the target takes other arguments)."""
    why = None
    if opts.to_core:
        core = entry.core_call_map
        if core is not None and (core.unchanged or calls_ok):
            target = core.target or entry.new
            assert target is not None  # core_call_map is None for removed names
            change = "" if entry.status == "same" else (
                f"moved to the core API {target}: {entry.note or 'results may differ from the legacy adapter'}")
            return Target(target, None if core.unchanged else core, None, change)
        if entry.new is None:
            why = "no core replacement (removed)"
        elif core is None:
            why = f"the core call differs (status {entry.status}): {entry.note or 'see the compat adapter'}"
        else:
            why = "not every use is a call the codemod can rewrite"
    compat = entry.compat_call
    if compat is not None:
        if not opts.rewrite_calls:
            return Target(entry.compat, None, _deprecated_note(entry, compat))
        replacement = compat.target or entry.compat
        if calls_ok:
            return Target(replacement, compat, why,
                          f"deprecated call replaced by {replacement}: its DeprecationWarning is no longer issued")
        why = (f"not every use is a call the codemod can rewrite, so it stays on {entry.compat} "
               "(legacy argument order)")
    return Target(entry.compat, None, why)


def split_module(module: str) -> tuple[str, str | None] | None:
    """``"training.cnn_losses"`` (either spelling) -> ``("training.cnn_losses", "cnn_losses")``;
    ``"training"`` -> ``("training", None)``; not under the legacy package -> None. The second item
    is None for the package itself and for unknown modules (check with :data:`LEGACY_MODULES`)."""
    name = canonical(module)
    if name == "training":
        return name, None
    if name.startswith("training."):
        rest = name[len("training."):]
        return name, rest if rest in _MODULES else None
    return None


def is_legacy_module(name: str) -> bool:
    return name in _MODULES


def compat_module(mod: str) -> str:
    return f"{COMPAT_PACKAGE}.{mod}"


def unmapped_message(dotted: str, module: bool = False) -> str:
    """What to say about a legacy name the table does not have: never a guess, only suggestions.
    ``module``: the name is used as a module (``import training.x``), not a package attribute."""
    name = canonical(dotted)
    parts = name.split(".")
    if name in NEVER_EXISTED:
        lead = f"{name} never existed in the legacy package"
    elif len(parts) == 2 and parts[1] not in _MODULES and not module:
        lead = f"{name}: the legacy package __init__ exported nothing (__all__ = [])"
    elif len(parts) >= 2 and parts[1] not in _MODULES:
        lead = f"{'.'.join(parts[:2])} is not a module of the legacy package"
    else:
        lead = f"{name} is not a public name of the legacy package"
    hints = closest(name)
    if hints:
        lead += "; candidates: " + ", ".join(hints)
    return lead + ". Left as written: rewrite it by hand."


@dataclass(frozen=True)
class AliasOutcome:
    """What happens to one name of a ``from ... import`` statement."""

    module: str | None  # new module to import from; None: stays on the legacy module
    name: str  # name imported from it
    asname: str | None  # alias written (the original alias, or the old name when the name changes)
    kind: str
    legacy: str
    target: str | None
    status: str
    message: str
    call: CallMap | None = None  # calls of the local name are rewritten with this map
    behaviour_change: str = ""


def plan_from_import(module: str, names: Sequence[tuple[str, str | None]], opts: Options,
                     calls_ok: frozenset[str] = frozenset()) -> list[AliasOutcome] | None:
    """Outcomes for ``from <module> import <names>`` (absolute), or None when the module is not legacy.

    ``names``: ``(name, asname)`` pairs; ``("*", None)`` for a star import. ``calls_ok``: local names
    whose every use is a rewritable call.
    """
    split = split_module(module)
    if split is None:
        return None
    canon, mod = split
    out: list[AliasOutcome] = []
    for name, asname in names:
        local = asname or name
        if canon == "training":  # from training import X
            if name == "*":
                out.append(AliasOutcome(None, name, asname, "star-import", canon, None, LEFT,
                                        "star import of the legacy package, which exported nothing (__all__ = []); "
                                        "left as written"))
            elif name in _MODULES:
                module_target = compat_module(name)
                message = ""
                if opts.to_core:
                    message = (f"module import stays on {module_target}: its names move to different core modules; "
                               "import the names you use to let --to-core move them")
                out.append(AliasOutcome(COMPAT_PACKAGE, name, asname, "import", f"training.{name}", module_target,
                                        REWRITTEN, message))
            else:
                dotted = f"training.{name}"
                out.append(AliasOutcome(None, name, asname, "import", dotted, None, UNMAPPED, unmapped_message(dotted)))
            continue
        if mod is None:  # training.<not a legacy module>
            dotted = f"{canon}.{name}" if name != "*" else canon
            out.append(AliasOutcome(None, name, asname, "import", dotted, None, UNMAPPED,
                                    unmapped_message(canon, module=True)))
            continue
        if name == "*":
            star_target = compat_module(mod)
            out.append(AliasOutcome(star_target, "*", None, "star-import", canon, star_target, REWRITTEN,
                                    f"star import: now from {star_target}, which defines the legacy public names "
                                    "(not the modules the legacy file happened to import); list the names you "
                                    "use so that they can be checked and moved"))
            continue
        entry = by_legacy(f"{canon}.{name}")
        if entry is None:
            dotted = f"{canon}.{name}"
            out.append(AliasOutcome(None, name, asname, "import", dotted, None, UNMAPPED, unmapped_message(dotted)))
            continue
        target = resolve(entry, opts, local in calls_ok)
        new_module, _, new_name = target.dotted.rpartition(".")
        alias = asname if asname is not None else (None if new_name == name else name)
        message = target.why_compat or ""
        if opts.to_core and target.why_compat is not None:
            message = f"kept the legacy-behaviour adapter: {message}"
        out.append(AliasOutcome(new_module, new_name, alias, "import", entry.legacy, target.dotted, REWRITTEN,
                                message, target.call, "" if target.call else target.behaviour_change))
    return out


def plan_package_alias(asname: str | None) -> AliasOutcome:
    """``from . import training [as T]`` in the parent of the legacy package: the same local name is
    bound to ``pfdtrain.compat``, whose legacy modules load as attributes on first use (as the
    legacy modules did once imported), so ``packages.core.training.cnn_trainer.CNNTrainer`` keeps
    working after the package is deleted."""
    package, _, name = COMPAT_PACKAGE.rpartition(".")
    return AliasOutcome(package, name, asname or "training", "relative-import", "training", COMPAT_PACKAGE,
                        REWRITTEN, "")


def plan_string(value: str, import_argument: bool, opts: Options) -> tuple[str | None, str, str, str] | None:
    """A string literal naming a legacy path: ``(new value or None, legacy, status, message)``.

    None when the string is not a whole dotted legacy path. Module-only strings are rewritten
    only as the argument of ``importlib.import_module``/``__import__`` (``import_argument``).
    """
    if not DOTTED_LEGACY.fullmatch(value):
        return None
    canon = canonical(value)
    parts = canon.split(".")
    if len(parts) < 2 or parts[1] not in _MODULES:
        return None  # "training.log", "training.data": not a reference to the legacy package
    mod = parts[1]
    if len(parts) == 2:
        if import_argument:
            return compat_module(mod), canon, REWRITTEN, ""
        return None, canon, LEFT, ("a string naming a legacy module outside an import call (a logger name?): "
                                   "left as written")
    entry = by_legacy(".".join(parts[:3]))
    if entry is None:
        dotted = ".".join(parts[:3])
        return None, dotted, UNMAPPED, unmapped_message(dotted)
    target = resolve(entry, opts, calls_ok=False)
    rest = parts[3:]
    message = f"kept the legacy-behaviour adapter: {target.why_compat}" if opts.to_core and target.why_compat else ""
    return ".".join([target.dotted, *rest]), entry.legacy, REWRITTEN, message


# ------------------------------------------------------------------------------------------ calls

POSITIONAL, KEYWORD, STAR, DOUBLE_STAR = "pos", "kw", "star", "dstar"


@dataclass(frozen=True)
class Binding:
    """How the arguments of one call bind to a :class:`CallMap`: for each output slot, the index of
    the original argument, or the default's source text."""

    order: tuple[tuple[str, int | None, str | None], ...]  # (keyword, arg index or None, default source)
    extra: tuple[int, ...]  # indexes of keyword arguments passed on unchanged


def bind(call: CallMap, args: Sequence[tuple[str, str | None]]) -> Binding | None:
    """Bind a call's arguments (``(kind, keyword)`` pairs) to the legacy parameters of ``call``.

    None when the binding is not certain: ``*args``/``**kwargs`` at the call site (they may carry
    any parameter), more positional arguments than parameters, or a parameter given twice.
    """
    bound: dict[str, int] = {}
    extra: list[int] = []
    position = 0
    for index, (kind, keyword) in enumerate(args):
        if kind == POSITIONAL:
            if position >= len(call.params):
                return None
            bound[call.params[position]] = index
            position += 1
        elif kind == KEYWORD:
            if keyword is not None and keyword in call.params:
                if keyword in bound:
                    return None
                bound[keyword] = index
            else:
                extra.append(index)
        else:
            return None
    defaults = dict(call.defaults)
    order: list[tuple[str, int | None, str | None]] = []
    for legacy, keyword in call.keywords:
        if legacy in bound:
            order.append((keyword, bound[legacy], None))
        elif legacy in defaults:
            order.append((keyword, None, defaults[legacy]))
    return Binding(tuple(order), tuple(extra))
