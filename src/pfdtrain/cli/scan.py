"""``pfdtrain scan PATH``: what a repository still needs from the legacy ``training`` package.

Four parts, all read-only:

1. **Legacy references by file and by symbol**: every import, attribute use, string reference and
   changed call that ``pfdtrain codemod`` would rewrite, and every legacy name it cannot map (the
   same analysis, ``ast`` only: nothing is rewritten, libcst is not needed).
2. **Checkpoint files** (``*.pth``, ``*.pt``, ``*.ckpt``, and ``*.bin`` files that are torch files)
   by detected layout. No pickle is executed: the layout is judged from a skeleton read from the
   pickle opcodes (:mod:`pfdtrain.migration.skeleton`); globals outside torch's weights-only
   allow-list are listed.
3. **Checkpoint readers**: code that loads checkpoint files itself (``torch.load``, loader
   helpers) and reads them with v1 keys (``checkpoint["model_state_dict"]``) or as a bare state
   dict; it breaks once the files are v2. Found statically with libcst
   (:mod:`pfdtrain.checkpoint_readers`), each with the v2 replacement of every line it reads.
4. **Commands** that would migrate them: ``pfdtrain codemod --diff PATH`` for the code and
   ``migrate-checkpoint --dry-run FILE`` for each legacy checkpoint.

``--json`` prints one object, schema ``pfdtrain.scan/1`` (documented in ``docs/scan.md``; fields
are only ever added within a schema version).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.checkpoint_readers import Reader

SCHEMA = "pfdtrain.scan/1"
CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")
_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "dist-packages"})


# ------------------------------------------------------------------------------ checkpoint layouts
@dataclass
class Layout:
    """What the seam :func:`detect_layout` says about one file."""

    layout: str | None  # manifest layout name ("cnn_trainer", "bare_state_dict", "v2", ...) or None
    evidence: tuple[str, ...] = ()
    legacy: bool = True  # False for v2 files (nothing to migrate)


def detect_layout(skeleton: Any) -> Layout:
    """THE seam between the static reader and the layout rules: the migration's own detector
    (:func:`pfdtrain.migration.layouts.detect`, the rules ``migrate-checkpoint`` converts by) judges
    the skeleton, whose tensor placeholders are real empty tensors. Nothing from the file is
    unpickled: the skeleton holds only plain containers, numbers, strings and names.
    """
    import torch

    from pfdtrain.migration import layouts
    from pfdtrain.migration.skeleton import with_placeholder_tensors

    found = layouts.detect(with_placeholder_tensors(skeleton.obj, torch.empty(0)), skeleton.serialization)
    if found is None:
        return Layout(None, ("no legacy writer matched the keys",))
    return Layout(found.layout, tuple(found.evidence), legacy=found.layout != layouts.V2)


def _unsafe(names: Sequence[str]) -> list[str]:
    """Globals that torch's weights-only loading refuses (static: from the opcodes)."""
    from pfdtrain.checkpoint.diagnose import _allowed_globals
    from pfdtrain.migration.skeleton import TENSOR_REBUILDERS

    allowed = _allowed_globals()
    out = []
    for name in dict.fromkeys(names):
        if allowed is not None:
            if name in allowed or name in TENSOR_REBUILDERS:
                continue
        elif name.startswith("torch.") or name in ("collections.OrderedDict", "_codecs.encode"):
            continue
        out.append(name)
    return out


def scan_checkpoint(path: Path, shown: str) -> dict | None:
    """One checkpoint's JSON record; None for a ``.bin`` file that is not a torch file."""
    from pfdtrain.migration.skeleton import Opaque, keys_of, read_skeleton

    skeleton = read_skeleton(path)
    if path.suffix == ".bin" and skeleton.serialization not in ("torch_zip", "torch_legacy", "pickle"):
        return None
    record: dict[str, Any] = {
        "path": shown, "size": _size(path), "serialization": skeleton.serialization, "layout": None,
        "evidence": [], "keys": [], "unsafe_globals": [], "needs_migration": False, "command": None,
        "error": skeleton.error,
    }
    if not skeleton.readable:
        return record
    record["unsafe_globals"] = _unsafe(skeleton.globals)
    record["keys"] = keys_of(skeleton.obj)[:20]
    if isinstance(skeleton.obj, Opaque):
        record["layout"] = "whole_module" if "torch.nn.modules" in skeleton.obj.name else "pickled_object"
        record["evidence"] = [f"a pickled {skeleton.obj.name} object, not a dict of plain data"]
    else:
        found = detect_layout(skeleton)
        record["layout"], record["evidence"] = found.layout, list(found.evidence)
        if not found.legacy:
            return record
    record["needs_migration"] = True
    record["command"] = f"migrate-checkpoint --dry-run {shlex.quote(shown)}"
    return record


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


# ------------------------------------------------------------------------------------ the scan
@dataclass
class ScanReport:
    root: str
    files_scanned: int = 0
    files_parsed: int = 0
    references: dict[str, list[dict]] = field(default_factory=dict)
    failed: list[dict] = field(default_factory=list)
    checkpoints: list[dict] = field(default_factory=list)
    #: legacy package folder -> files of it that mention the package (not analysed: it is what goes)
    legacy_packages: dict[str, int] = field(default_factory=dict)
    #: code that reads checkpoint files with v1 keys or as a bare state dict
    readers: list[Reader] = field(default_factory=list)
    readers_files_parsed: int = 0

    def checkpoint_layouts(self) -> list[str]:
        """Layouts of the legacy checkpoints found (for the ``--downgrade`` advice)."""
        return list(dict.fromkeys(c["layout"] for c in self.checkpoints if c["needs_migration"] and c["layout"]))

    def readers_json(self) -> list[dict]:
        from pfdtrain.checkpoint_readers import downgrade_layouts, edits

        found = self.checkpoint_layouts()
        return [{
            "path": r.path, "line": r.line, "message": r.message(), "call": r.site.call, "code": r.site.code,
            "keys": r.keys, "state_dict": r.state_dict, "helper_defined_at": r.helper_at,
            "uses": [{"line": u.line, "key": u.key, "kind": u.kind, "code": u.code} for u in r.site.uses],
            "edits": [{"line": e.line, "old": e.old, "new": e.new, "note": e.note} for e in edits(r)],
            "downgrade_layouts": downgrade_layouts(r, found),
        } for r in self.readers]

    def vendored(self) -> list[dict]:
        """References left because they resolve to a vendored copy, grouped by copy."""
        copies: dict[str, dict] = {}
        for path, refs in self.references.items():
            for ref in refs:
                if ref.get("vendored"):
                    item = copies.setdefault(ref["vendored"], {"copy": ref["vendored"], "references": 0, "files": []})
                    item["references"] += 1
                    if path not in item["files"]:
                        item["files"].append(path)
        return [copies[key] for key in sorted(copies)]

    def legacy_left(self) -> int:
        """References that still need the legacy package (not vendored, not rewritten by default)."""
        return sum(1 for refs in self.references.values() for ref in refs if not ref.get("vendored"))

    def symbols(self) -> list[dict]:
        from pfdtrain.legacy_map import by_legacy

        table: dict[str, dict] = {}
        for path, refs in self.references.items():
            for ref in refs:
                if ref.get("vendored"):
                    continue
                item = table.get(ref["legacy"])
                if item is None:
                    entry = by_legacy(ref["legacy"])
                    item = table[ref["legacy"]] = {
                        "legacy": ref["legacy"], "mapped": ref["status"] != "unmapped",
                        "compat": entry.compat if entry else (ref["target"] if ref["status"] != "unmapped" else None),
                        "new": entry.new if entry else None, "status": entry.status if entry else None,
                        "note": entry.note if entry else (ref["message"] if ref["status"] == "unmapped" else ""),
                        "uses": [],
                    }
                item["uses"].append({"path": path, "line": ref["line"], "kind": ref["kind"]})
        return sorted(table.values(), key=lambda item: (-len(item["uses"]), item["legacy"]))

    def commands(self, target: str) -> list[str]:
        out = []
        if any(ref["status"] == "rewritten" for refs in self.references.values() for ref in refs):
            out.append(f"pfdtrain codemod --diff {shlex.quote(target)}")
        out += [c["command"] for c in self.checkpoints if c["command"]]
        return out

    def as_json(self, target: str) -> dict:
        return {
            "schema": SCHEMA,
            "root": self.root,
            "python": {"files_scanned": self.files_scanned, "files_parsed": self.files_parsed,
                       "files_with_references": len(self.references), "failed": self.failed,
                       "readers_files_parsed": self.readers_files_parsed},
            "files": [{"path": path, "references": refs} for path, refs in sorted(self.references.items())],
            "symbols": self.symbols(),
            "vendored": self.vendored(),
            "legacy_packages": [{"path": p, "files": n} for p, n in sorted(self.legacy_packages.items())],
            "checkpoints": self.checkpoints,
            "readers": self.readers_json(),
            "commands": self.commands(target),
        }


def scan(path: Path, exclude: Sequence[str] = (), include_vendored: bool = False, readers: bool = True) -> ScanReport:
    """The read-only report (see the module docstring); classifies references as ``pfdtrain codemod``
    would with the same options, under the same root. ``readers=False`` skips the search for
    checkpoint readers (the slowest part: a libcst parse of the files that may hold one)."""
    from codemods import analyse_source, parse_error
    from codemods._layout import clear_caches
    from codemods._prefilter import may_reference_legacy
    from pfdtrain.checkpoint_readers import find_readers
    from pfdtrain.cli.codemod import _excluded, root_of

    clear_caches()
    root = path if path.is_dir() else path.parent
    report = ScanReport(str(root.resolve()))
    layout_root = str(root_of(path))

    def shown(p: Path) -> str:
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            return p.as_posix()

    files: list[Path] = []
    if path.is_file():
        files = [path]
    else:
        for folder, dirs, names in os.walk(path):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS
                             and not (here / d / "pyvenv.cfg").exists() and not _excluded(here / d, path, exclude))
            files += [here / n for n in sorted(names) if not _excluded(here / n, path, exclude)]
    sources: list[tuple[str, bytes]] = []  # for the checkpoint-reader search
    for file in files:
        if file.suffix == ".py":
            report.files_scanned += 1
            try:
                data = file.read_bytes()
            except OSError as exc:
                report.failed.append({"path": shown(file), "error": f"cannot read: {exc.strerror or exc}"})
                continue
            if readers and not _in_legacy_package(file, root):
                sources.append((shown(file), data))
            if not may_reference_legacy(data, file.resolve()):
                continue
            report.files_parsed += 1
            try:
                analysis = analyse_source(data, str(file.resolve()), include_vendored=include_vendored,
                                          root=layout_root)
            except (SyntaxError, ValueError) as exc:
                report.failed.append({"path": shown(file), "error": parse_error(exc)})
                continue
            if analysis.legacy_package is not None:
                folder = analysis.legacy_package
                report.legacy_packages[folder] = report.legacy_packages.get(folder, 0) + 1
                continue
            if analysis.findings:
                report.references[shown(file)] = [f.as_dict() for f in analysis.findings]
        elif file.suffix in CHECKPOINT_SUFFIXES and not file.name.startswith("."):
            record = scan_checkpoint(file, shown(file))
            if record is not None:
                report.checkpoints.append(record)
    search = find_readers(sources)
    report.readers, report.readers_files_parsed = search.readers, search.files_parsed
    known = {item["path"] for item in report.failed}
    report.failed += [item for item in search.failed if item["path"] not in known]
    return report


def _in_legacy_package(file: Path, root: Path) -> bool:
    """Files of the legacy package itself: what the migration removes (its readers go with it)."""
    from codemods._layout import is_legacy_location

    try:
        parts = file.parent.resolve().relative_to(root.resolve()).parts
    except ValueError:
        return False
    return any(is_legacy_location(parts[:i]) for i in range(1, len(parts) + 1))


def print_report(report: ScanReport, target: str, out: TextIO) -> None:
    w = out.write
    refs = report.references
    n_legacy = report.legacy_left()
    n_vendored = sum(len(v) for v in refs.values()) - n_legacy
    files_legacy = sum(1 for items in refs.values() if any(not r.get("vendored") for r in items))
    w(f"Legacy `training` references: {n_legacy} in {files_legacy} of {report.files_scanned} Python files")
    w(f" (and {n_vendored} that resolve to vendored copies)\n" if n_vendored else "\n")
    for path, items in sorted(refs.items()):
        w(f"  {path}\n")
        for ref in items:
            arrow = f" -> {ref['target']}" if ref["target"] else ""
            status = "vendored" if ref.get("vendored") else ref["status"]
            flag = "" if status == "rewritten" else f"  [{status.upper()}]"
            w(f"    {ref['line']:>5}  {ref['kind']:<15} {ref['legacy']}{arrow}{flag}\n")
            if ref["status"] != "rewritten" and ref["message"]:
                w(f"           {ref['message']}\n")
    vendored = report.vendored()
    if vendored:
        w("\nVendored copies of the package (their imports are left as written; "
          "`pfdtrain codemod --include-vendored` rewrites them):\n")
        for item in vendored:
            w(f"  {item['copy']}: {item['references']} reference(s) in {len(item['files'])} file(s)\n")
    for folder, files in sorted(report.legacy_packages.items()):
        w(f"\nThe legacy package is still here: {folder} ({files} of its files mention it; not scanned: "
          "it is what the migration removes once nothing imports it)\n")
    symbols = report.symbols()
    if symbols:
        w("\nBy symbol (uses, legacy name, where it goes):\n")
        for item in symbols:
            if item["mapped"]:
                core = f"; core: {item['new']} ({item['status']})" if item["new"] else (
                    "; no core replacement" if item["status"] == "removed" else "")
                w(f"  {len(item['uses']):>4}  {item['legacy']} -> {item['compat']}{core}\n")
            else:
                w(f"  {len(item['uses']):>4}  {item['legacy']}  [UNMAPPED] {item['note']}\n")
    for failure in report.failed:
        w(f"  could not read {failure['path']}: {failure['error']}\n")
    w(f"\nCheckpoint files: {len(report.checkpoints)}\n")
    for c in report.checkpoints:
        if c["error"]:
            w(f"  {c['path']}: {c['serialization']}: {c['error']}\n")
            continue
        layout = c["layout"] or "unknown layout"
        w(f"  {c['path']}: {layout} ({c['serialization']}, {c['size']} bytes)")
        w(f" — {'; '.join(c['evidence'])}\n" if c["evidence"] else "\n")
        if c["unsafe_globals"]:
            w(f"      not plain data: {', '.join(c['unsafe_globals'])} (refused by weights-only loading; "
              "migrate only a file you trust)\n")
    print_readers(report, out)
    commands = report.commands(target)
    if commands:
        w("\nCommands (dry runs: they print what would change and write nothing):\n")
        for command in commands:
            w(f"  {command}\n")


def print_readers(report: ScanReport, out: TextIO, indent: str = "  ") -> None:
    """The checkpoint readers, each with the replacements that make it read v2 (and v1) files."""
    from pfdtrain.checkpoint_readers import advice_lines

    w = out.write
    w(f"\nCheckpoint readers: {len(report.readers)}")
    if not report.readers:
        w("\n")
        return
    w(" (code that loads checkpoint files itself and reads them with v1 keys or as a bare state dict: "
      "it breaks on files migrated to v2; to change:)\n")
    found = report.checkpoint_layouts()
    for reader in report.readers:
        w(f"{indent}{reader.message()}\n")
        for line in advice_lines(reader, found):
            w(f"{indent}    {line}\n")


def run_scan(path: Path, as_json: bool = False, exclude: Sequence[str] = (), out: TextIO | None = None,
             include_vendored: bool = False) -> int:
    out = sys.stdout if out is None else out
    report = scan(path, exclude, include_vendored)
    target = str(path)
    if as_json:
        out.write(json.dumps(report.as_json(target), indent=2) + "\n")
    else:
        print_report(report, target, out)
    return 0
