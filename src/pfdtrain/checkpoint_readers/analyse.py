"""One file, read statically with libcst: where it loads checkpoint files and which keys it reads.

A *load site* is a call that returns what a checkpoint file holds: ``torch.load`` under any import
spelling (``torch.load``, ``import torch as T; T.load``, ``from torch import load as L``,
``torch.serialization.load``), or a call of a *loader helper*, a function of the repository that
returns what ``torch.load`` read (``CheckpointManager.load_checkpoint``, ``BaseModel.load_checkpoint``).
Which names are helpers is known only once every file is read (:mod:`.find`), so here every call
whose result is read from is kept as a candidate, and each function notes which calls it returns.

A result is followed where it is used in the same function: directly
(``torch.load(p)["model_state_dict"]``) or through the name it is assigned to
(``ckpt = torch.load(p)`` and later ``ckpt["epoch"]``, ``ckpt.get("history")``,
``"scheduler_state_dict" in ckpt``, also from functions nested in it), or given whole to
``load_state_dict`` (a bare state dict). Only the first subscript counts: in
``ckpt["model"]["state_dict"]`` the key ``state_dict`` is read from ``ckpt["model"]``, not from
the file's top level. A name that is also checked for the v2 header (``ckpt["format"]``,
``is_v2(ckpt)``) belongs to code that already tells the formats apart.

The analysis is flow-insensitive and local: a name assigned a load result anywhere in a function
counts for every use of that name there; a result handed to another function, stored on an
object or unpacked is not followed. Nothing is executed. Only the statements that can matter are
parsed (:func:`~pfdtrain.checkpoint_readers.prefilter.narrowed`), with their line numbers kept.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

from pfdtrain.checkpoint_readers.prefilter import narrowed

#: Modules whose ``load`` reads a torch file.
TORCH_LOADERS = frozenset({"torch.load", "torch.serialization.load"})
#: Keys of the v2 header: code that reads them already handles v2 files.
V2_MARKER_KEYS = frozenset({"format", "format_version"})
#: Functions whose call on a loaded object shows the code tells v1 and v2 apart.
V2_MARKER_CALLS = frozenset({"is_v2", "check_format"})
#: Helper names too generic to follow by name across files (``json.load`` is no checkpoint loader).
GENERIC_NAMES = frozenset({"load", "get", "read", "open", "run", "main", "forward", "__call__", "__init__"})
#: Modules whose classes are the legacy package or its adapters (their loaders read v2 files).
ADAPTER_MODULES = ("training", "packages.core.training", "pfdtrain")
_ACCESSORS = frozenset({"get", "pop"})


@dataclass(frozen=True)
class KeyUse:
    """One read of a top-level key of a loaded checkpoint."""

    line: int
    key: str
    kind: str  # "subscript", "get", "pop", "in", "not in"
    code: str  # the expression as written
    receiver: str  # the loaded object as written (a name, or the load call itself)
    quote: str  # the quote of the key literal, reused in the advice
    rest: tuple[str, ...] = ()  # further arguments of get/pop (the default), as written


@dataclass
class LoadSite:
    """A call that loads a checkpoint file, and what the code reads from its result.

    During the visit every call whose result is read, bound or returned is a candidate (a helper's
    name is known to be a loader only once all files are analysed); ``code`` is filled in at the end
    for the candidates that are read from.
    """

    line: int
    call: str  # "torch.load", or the helper's name
    code: str = ""
    helper: str | None = None  # the loader helper's name for a helper call
    load_any: str | None = None  # the same call with pfdtrain.checkpoint.load_any (torch.load only)
    unsafe: bool = False  # called with weights_only=False
    bound_to: str | None = None
    uses: list[KeyUse] = field(default_factory=list)
    state_dict_lines: list[int] = field(default_factory=list)  # given whole to load_state_dict
    state_dict_code: list[str] = field(default_factory=list)
    v2_aware: bool = False

    def keys(self) -> list[str]:
        return list(dict.fromkeys(use.key for use in self.uses))


@dataclass(frozen=True)
class Loader:
    """A function and the calls it returns the result of (``"torch.load"`` or a helper's name).

    It is a loader helper when one of them is ``torch.load`` or another loader helper.
    """

    name: str
    qualname: str
    line: int
    returns: tuple[str, ...]


@dataclass
class FileAnalysis:
    sites: list[LoadSite] = field(default_factory=list)
    loaders: list[Loader] = field(default_factory=list)


@dataclass
class _Scope:
    kind: str  # "module", "class", "function"
    name: str = ""
    assigned: set[str] = field(default_factory=set)
    bound: dict[str, list[LoadSite]] = field(default_factory=dict)
    uses: list[tuple[str, object]] = field(default_factory=list)  # (name, KeyUse | ("state_dict", line, code) | "v2")
    returns: list[cst.BaseExpression] = field(default_factory=list)


class _Imports:
    """Local names of ``torch``, of its ``load`` function, and of legacy/adapter classes (collected
    as the visit goes: imports come before the code that uses them)."""

    def __init__(self) -> None:
        self.modules: dict[str, str] = {"torch": "torch"}  # local name -> module
        self.functions: dict[str, str] = {}  # local name -> dotted name (from torch import load)
        self.adapters: set[str] = set()

    def add_import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = get_full_name_for_node(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.modules[alias.asname.name.value] = dotted
            else:
                root = dotted.split(".")[0]
                self.modules[root] = root

    def add_import_from(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = get_full_name_for_node(node.module) or ""
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) \
                else name
            self.functions[local] = f"{module}.{name}"
            if module.split(".")[0] in ("torch",) and name in ("serialization",):
                self.modules[local] = f"{module}.{name}"
            if any(module == m or module.startswith(m + ".") for m in ADAPTER_MODULES):
                self.adapters.add(local)


class _LinesMismatch(Exception):
    """The ``ast`` line table does not describe the libcst tree (then positions are computed)."""


class _Visitor(cst.CSTVisitor):
    """Lines come from the ``ast`` table of the same text (:class:`Parsed`): the nodes that need one
    are counted per kind in visiting order, which is source order, as the table is; each looked-up
    node is checked against the table's entry (its name or key), and any difference raises
    :class:`_LinesMismatch`."""

    def __init__(self, module: cst.Module, lines: dict[str, list[tuple[int, str | None]]] | None,
                 keys: frozenset[str]) -> None:
        super().__init__()
        self.module = module
        self.lines = lines
        self.counts: dict[str, int] = {}
        self.index: dict[int, tuple[str, int]] = {}
        self.imports = _Imports()
        self.keys = keys
        self.sites: dict[int, tuple[LoadSite, cst.Call]] = {}
        self.loaders: list[Loader] = []
        self.result: list[LoadSite] = []
        self.scopes: list[_Scope] = [_Scope("module")]

    # ------------------------------------------------------------------ what is a load call
    def _dotted(self, func: cst.BaseExpression) -> str | None:
        name = get_full_name_for_node(func)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.imports.modules:
            return self.imports.modules[head] + (f".{rest}" if rest else "")
        if head in self.imports.functions and not rest:
            return self.imports.functions[head]
        return name

    def _site(self, node: cst.BaseExpression) -> LoadSite | None:
        """The (candidate) load site of ``node`` when it is a call (memoised by node identity)."""
        if not isinstance(node, cst.Call):
            return None
        if id(node) in self.sites:
            return self.sites[id(node)][0]
        helper = _last_name(node.func)
        if self._dotted(node.func) in TORCH_LOADERS:
            site = LoadSite(0, "torch.load", unsafe=_weights_only_false(node))  # line: in finish()
        elif helper is not None and helper not in GENERIC_NAMES and not self._on_adapter(node.func):
            site = LoadSite(0, helper, helper=helper)
        else:
            return None
        self.sites[id(node)] = (site, node)
        return site

    def finish(self) -> list[LoadSite]:
        """The candidates that something is read from, with their code."""
        out = []
        for site, node in self.sites.values():
            if site.uses or site.state_dict_lines:
                site.line = self._line(node)
                site.code = self._code(node)
                if site.helper is None:
                    site.load_any = self._load_any(node)
                out.append(site)
        return sorted(out, key=lambda s: s.line)

    def _on_adapter(self, func: cst.BaseExpression) -> bool:
        return (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                and func.value.value in self.imports.adapters)

    def _load_any(self, node: cst.Call) -> str:
        """``node`` as a ``load_any`` call: the path, ``map_location`` and ``mmap`` kept."""
        args: list[cst.Arg] = []
        for index, arg in enumerate(node.args):
            if arg.star:
                continue
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword is None and index < 2:
                args.append(arg)
            elif keyword == "f":
                args.insert(0, arg.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT))
            elif keyword in ("map_location", "mmap"):
                args.append(arg)
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return self._code(node.with_changes(func=cst.Name("load_any"), args=args))

    # ------------------------------------------------------------------ helpers
    def _count(self, node: cst.CSTNode, kind: str) -> None:
        number = self.counts.get(kind, 0)
        self.counts[kind] = number + 1
        self.index[id(node)] = (kind, number)

    def _line(self, node: cst.CSTNode) -> int:
        assert self.lines is not None
        kind, number = self.index[id(node)]
        table = self.lines.get(kind, [])
        if number >= len(table) or table[number][1] != _tag(node):
            raise _LinesMismatch(kind)
        return table[number][0]

    def _code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def _receiver(self, node: cst.BaseExpression, use: object) -> None:
        """Attach ``use`` to the load site it reads from: a load call itself, or a name (resolved later)."""
        site = self._site(node)
        if site is not None:
            _attach(site, use)
        elif isinstance(node, cst.Name):
            self.scopes[-1].uses.append((node.value, use))

    def _assign(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.scopes[-1].assigned.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._assign(element.value)
        elif isinstance(target, cst.StarredElement):
            self._assign(target.value)

    # ------------------------------------------------------------------ scopes
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._count(node, "def")
        self.scopes[-1].assigned.add(node.name.value)
        outer = [s.name for s in self.scopes if s.name]
        scope = _Scope("function", ".".join([*outer, node.name.value]))
        for param in _params(node.params):
            scope.assigned.add(param)
        self.scopes.append(scope)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        scope = self.scopes.pop()
        self._resolve(scope)
        returned: list[str] = []
        for value in scope.returns:
            site = self._site(value)
            sites = [site] if site is not None else \
                scope.bound.get(value.value, []) if isinstance(value, cst.Name) else []
            returned += [s.call for s in sites]
        if returned:
            self.loaders.append(Loader(original_node.name.value, scope.name, self._line(original_node),
                                       tuple(dict.fromkeys(returned))))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes[-1].assigned.add(node.name.value)
        outer = [s.name for s in self.scopes if s.name]
        self.scopes.append(_Scope("class", ".".join([*outer, node.name.value])))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._resolve(self.scopes.pop())

    def visit_Lambda(self, node: cst.Lambda) -> None:
        scope = _Scope("function")
        scope.assigned.update(_params(node.params))
        self.scopes.append(scope)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._resolve(self.scopes.pop())

    def leave_Module(self, original_node: cst.Module) -> None:
        self._resolve(self.scopes.pop())
        self.result = self.finish()  # while positions are available (libcst drops them after the visit)

    def _resolve(self, scope: _Scope) -> None:
        """Give each use of a name to the load sites the name is bound to here; pass free names out."""
        outer = next((s for s in reversed(self.scopes) if s.kind != "class"), None)
        for name, use in scope.uses:
            if name in scope.bound:
                for site in scope.bound[name]:
                    _attach(site, use)
            elif name not in scope.assigned and outer is not None:
                outer.uses.append((name, use))

    # ------------------------------------------------------------------ bindings
    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assign(target.target)
        site = self._site(node.value)
        if site is not None and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            name = node.targets[0].target.value
            site.bound_to = name
            self.scopes[-1].bound.setdefault(name, []).append(site)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._assign(node.target)
        site = None if node.value is None else self._site(node.value)
        if site is not None and isinstance(node.target, cst.Name):
            site.bound_to = node.target.value
            self.scopes[-1].bound.setdefault(node.target.value, []).append(site)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._assign(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._assign(node.target)
        site = self._site(node.value)
        if site is not None and isinstance(node.target, cst.Name):
            site.bound_to = node.target.value
            self.scopes[-1].bound.setdefault(node.target.value, []).append(site)

    def visit_For(self, node: cst.For) -> None:
        self._assign(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._assign(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._assign(node.name.name)

    def visit_Import(self, node: cst.Import) -> None:
        self.imports.add_import(node)
        for alias in node.names:
            if alias.asname is not None:
                self._assign(alias.asname.name)
            else:
                self.scopes[-1].assigned.add((get_full_name_for_node(alias.name) or "").split(".")[0])

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports.add_import_from(node)
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if alias.asname is not None:
                self._assign(alias.asname.name)
            else:
                self.scopes[-1].assigned.add(get_full_name_for_node(alias.name) or "")

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.scopes[-1].returns.append(node.value)

    # ------------------------------------------------------------------ reads
    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._count(node, "subscript")
        key = _single_string(node.slice)
        if key is None:
            return
        text, quote = key
        if text in V2_MARKER_KEYS:
            self._receiver(node.value, "v2")
        elif text in self.keys:
            use = KeyUse(self._line(node), text, "subscript", self._code(node), self._code(node.value), quote)
            self._receiver(node.value, use)

    def visit_Call(self, node: cst.Call) -> None:
        self._count(node, "call")
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _ACCESSORS and node.args:
            key = _string(node.args[0].value) if not node.args[0].keyword and not node.args[0].star else None
            if key is not None:
                text, quote = key
                if text in V2_MARKER_KEYS:
                    self._receiver(func.value, "v2")
                elif text in self.keys:
                    rest = tuple(self._code(a.value) for a in node.args[1:])
                    use = KeyUse(self._line(node), text, func.attr.value, self._code(node), self._code(func.value),
                                 quote, rest)
                    self._receiver(func.value, use)
            return
        name = _last_name(func)
        if name == "load_state_dict" and node.args and not node.args[0].keyword and not node.args[0].star:
            value = node.args[0].value
            self._receiver(value, ("state_dict", self._line(node), self._code(value)))
        elif name in V2_MARKER_CALLS and node.args:
            self._receiver(node.args[0].value, "v2")

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._count(node, "compare")
        if len(node.comparisons) != 1:
            return
        target = node.comparisons[0]
        if not isinstance(target.operator, (cst.In, cst.NotIn)):
            return
        key = _string(node.left)
        if key is None:
            return
        text, quote = key
        kind = "in" if isinstance(target.operator, cst.In) else "not in"
        if text in V2_MARKER_KEYS:
            self._receiver(target.comparator, "v2")
        elif text in self.keys:
            use = KeyUse(self._line(node), text, kind, self._code(node), self._code(target.comparator), quote)
            self._receiver(target.comparator, use)


def _attach(site: LoadSite, use: object) -> None:
    if use == "v2":
        site.v2_aware = True
    elif isinstance(use, KeyUse):
        site.uses.append(use)
    elif isinstance(use, tuple):
        _, line, code = use
        site.state_dict_lines.append(int(line))
        site.state_dict_code.append(str(code))


def _last_name(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def _string(node: cst.BaseExpression) -> tuple[str, str] | None:
    """The text and quote of a plain string literal (not an f-string, not bytes)."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        if isinstance(value, str):
            quote = node.quote if node.quote in ("'", '"') else '"'
            return value, quote
    return None


def _single_string(elements: Sequence[cst.SubscriptElement]) -> tuple[str, str] | None:
    if len(elements) != 1 or not isinstance(elements[0].slice, cst.Index):
        return None
    return _string(elements[0].slice.value)


def _params(params: cst.Parameters) -> Iterable[str]:
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        yield param.name.value
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            yield star.name.value


def _weights_only_false(node: cst.Call) -> bool:
    return any(arg.keyword is not None and arg.keyword.value == "weights_only"
               and isinstance(arg.value, cst.Name) and arg.value.value == "False" for arg in node.args)


class _SpanVisitor(_Visitor):
    """The fallback: lines from libcst's own byte positions (a second pass over the whole tree)."""

    METADATA_DEPENDENCIES = (ByteSpanPositionProvider,)

    def __init__(self, module: cst.Module, newlines: Sequence[int], keys: frozenset[str]) -> None:
        super().__init__(module, None, keys)
        self.newlines = newlines

    def _line(self, node: cst.CSTNode) -> int:
        return bisect.bisect_right(self.newlines, self.get_metadata(ByteSpanPositionProvider, node).start) + 1


def _tag(node: cst.CSTNode) -> str | None:
    """What identifies a node in the line table: a call's name, a subscript's or comparison's string."""
    if isinstance(node, cst.Call):
        return _last_name(node.func)
    if isinstance(node, cst.Subscript):
        key = _single_string(node.slice)
        return None if key is None else key[0]
    if isinstance(node, cst.Comparison):
        key = _string(node.left)
        return None if key is None else key[0]
    if isinstance(node, cst.FunctionDef):
        return node.name.value
    return None


def _line_table(code: bytes) -> dict[str, list[tuple[int, str | None]]] | None:
    """``(line, tag)`` of every call, subscript, comparison and function definition, in source order."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    found: dict[str, list[tuple[tuple[int, int, int, int], int, str | None]]] = {}
    for node in ast.walk(tree):
        kind, tag = _ast_tag(node)
        if kind is not None:
            assert isinstance(node, (ast.expr, ast.stmt))
            order = (node.lineno, node.col_offset, -(node.end_lineno or 0), -(node.end_col_offset or 0))
            found.setdefault(kind, []).append((order, node.lineno, tag))
    return {kind: [(line, tag) for _, line, tag in sorted(items)] for kind, items in found.items()}


def _ast_tag(node: ast.AST) -> tuple[str | None, str | None]:
    def text(value: ast.AST) -> str | None:
        return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None

    if isinstance(node, ast.Call):
        func = node.func
        return "call", func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if isinstance(node, ast.Subscript):
        return "subscript", text(node.slice)
    if isinstance(node, ast.Compare):
        return "compare", text(node.left)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "def", node.name
    return None, None


@dataclass
class Parsed:
    """A file parsed once and analysed as often as needed (with more loader names each round)."""

    wrapper: MetadataWrapper
    newlines: list[int]  # byte offsets of the line ends of the parsed code
    lines: dict[str, list[tuple[int, str | None]]] | None = None  # from ast; None: use libcst positions

    @classmethod
    def of(cls, data: bytes, keys: frozenset[str], helpers: Iterable[str] = ()) -> Parsed:
        """Parse the statements of ``data`` that matter (:func:`narrowed`; ``helpers``: loader helpers
        whose calls matter too), or all of it when the narrowed text does not parse; raises libcst's
        ``ParserSyntaxError`` for a broken file."""
        text = narrowed(data, keys, helpers)
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError:
            text = data
            module = cst.parse_module(data)
        code = module.bytes if module.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else \
            module.code.encode("utf-8")
        newlines = [i for i, byte in enumerate(code) if byte == 10]
        return cls(MetadataWrapper(module, unsafe_skip_copy=True), newlines, _line_table(text))


def analyse(parsed: Parsed, keys: frozenset[str]) -> FileAnalysis:
    """Candidate load sites (with what is read from them) and the functions of one parsed file.

    Lines come from the ``ast`` table (one cheap C parse); where it does not describe the libcst tree
    node for node, the visit is repeated with libcst's own positions.
    """
    if parsed.lines is not None:
        visitor = _Visitor(parsed.wrapper.module, parsed.lines, keys)
        try:
            parsed.wrapper.module.visit(visitor)
            return FileAnalysis(visitor.result, visitor.loaders)
        except _LinesMismatch:
            pass
    spans = _SpanVisitor(parsed.wrapper.module, parsed.newlines, keys)
    parsed.wrapper.visit(spans)
    return FileAnalysis(spans.result, spans.loaders)
