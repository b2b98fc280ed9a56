"""The readers of a whole repository: every file analysed, loader helpers followed across files.

A loader helper (a function that returns what ``torch.load`` read) may live in one file and be
called in another, and helpers call helpers (``load_best_checkpoint`` returns
``self.load_checkpoint(...)``). So each file is analysed once, keeping every call whose result is
read as a candidate and noting which calls each function returns; once all files are in, the
loader helpers are worked out from those notes and the candidates that call none are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pfdtrain.checkpoint_readers.analyse import GENERIC_NAMES, FileAnalysis, Loader, LoadSite, Parsed, analyse
from pfdtrain.checkpoint_readers.prefilter import may_define_loader, may_read_checkpoints, mentions_keys
from pfdtrain.checkpoint_readers.v1_keys import v1_keys

_MAX_ROUNDS = 8


@dataclass
class Reader:
    """A load site whose result the code reads with v1 keys, or hands to ``load_state_dict`` whole."""

    path: str
    site: LoadSite
    helper_at: list[str] = field(default_factory=list)  # "file:line" of the helper's definition(s)

    @property
    def line(self) -> int:
        return self.site.line

    @property
    def keys(self) -> list[str]:
        return self.site.keys()

    @property
    def state_dict(self) -> bool:
        return bool(self.site.state_dict_lines)

    def message(self) -> str:
        """``file:line reads checkpoints with v1 keys ('model_state_dict', ...)``."""
        parts = []
        if self.keys:
            parts.append(f"with v1 keys ({', '.join(map(repr, self.keys))})")
        if self.state_dict:
            lines = ", ".join(map(str, self.site.state_dict_lines))
            parts.append(f"as a bare state dict (given whole to load_state_dict, line {lines})")
        return f"{self.path}:{self.line} reads checkpoints {' and '.join(parts)}"


@dataclass
class ReaderSearch:
    readers: list[Reader] = field(default_factory=list)
    files_parsed: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    loaders: dict[str, list[str]] = field(default_factory=dict)  # helper name -> "file:line" definitions


def find_readers(files: Iterable[tuple[str, bytes]]) -> ReaderSearch:
    """Readers in ``files`` (``(shown path, bytes)``; the legacy package's own files left out)."""
    search = ReaderSearch()
    files = [(path, data) for path, data in files if b"load" in data]
    if not files:  # nothing can load a file: the key table (and torch, which it imports) is not needed
        return search
    keys = v1_keys()
    # files that call load(...) or define a loader first; then those that call a helper found so far
    candidates = [(path, data, may_define_loader(data) or may_read_checkpoints(data, keys)) for path, data in files
                  if may_define_loader(data) or mentions_keys(data, keys)]
    analyses: dict[str, FileAnalysis] = {}
    parsed_with: dict[str, frozenset[str]] = {}  # the helper names each file was narrowed for
    names: frozenset[str] = frozenset()
    todo = [(path, data) for path, data, first in candidates if first]
    for _ in range(_MAX_ROUNDS):
        for path, data in todo:
            helpers = _unusual(names, data)
            try:
                analyses[path] = analyse(Parsed.of(data, keys, helpers), keys)
            except Exception as exc:  # libcst's ParserSyntaxError, or bytes in an unknown encoding
                search.failed.append({"path": path, "error": _first_line(exc)})
            parsed_with[path] = helpers
        names = loader_names([f for a in analyses.values() for f in a.loaders])
        todo = [(path, data) for path, data, _ in candidates
                if (path not in parsed_with and may_read_checkpoints(data, keys, names))
                or (path in analyses and not _unusual(names, data) <= parsed_with[path])]
        if not todo:
            break
    search.files_parsed = len(analyses) + len(search.failed)
    for path, analysis in sorted(analyses.items()):
        for function in analysis.loaders:
            if function.name in names and any(call == "torch.load" or call in names for call in function.returns):
                search.loaders.setdefault(function.name, []).append(f"{path}:{function.line}")
    for path, analysis in sorted(analyses.items()):
        for site in analysis.sites:
            if site.v2_aware or (site.helper is not None and site.helper not in names):
                continue
            where = search.loaders.get(site.helper, []) if site.helper else []
            search.readers.append(Reader(path, site, list(where)))
    return search


def loader_names(functions: Sequence[Loader]) -> frozenset[str]:
    """Names of the functions that return what ``torch.load`` read, directly or through another one."""
    names: set[str] = set()
    for _ in range(_MAX_ROUNDS):
        found = {f.name for f in functions if f.name not in GENERIC_NAMES
                 and any(call == "torch.load" or call in names for call in f.returns)}
        if found <= names:
            break
        names |= found
    return frozenset(names)


def _unusual(names: frozenset[str], data: bytes) -> frozenset[str]:
    """Helper names the file calls that the narrowing would not keep on its own (not ``load...``)."""
    return frozenset(n for n in names if not n.startswith("load") and n.encode() in data)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"cannot parse: {text[0] if text else type(exc).__name__}"


__all__ = ["Loader", "Reader", "ReaderSearch", "find_readers"]
