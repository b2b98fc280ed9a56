"""``pfdtrain upgrade PATH``: the whole migration of one repository, the journey ``pfdtrain demo`` shows.

1. scan: legacy references, vendored copies, the legacy package, checkpoint files, and code that
   reads checkpoint files itself with v1 keys (*readers*: ``torch.load(p)["model_state_dict"]``);
2. with ``--test CMD``: the repository's own tests, as they are (the drop-in shims available);
3. codemod, the default run (no behaviour change; imports of vendored copies left as written);
4. migrate the checkpoints the scan found, in place: verified, each original kept as
   ``NAME.v1.bak`` (``--skip-checkpoints`` leaves them as they are). When readers were found, the
   user is told first, and the checkpoints are migrated only where breaking a reader cannot go
   unnoticed: with ``--test`` (step 6 restores them if the tests do worse) or when asked with
   ``--migrate-checkpoints``; otherwise they are left as they are;
5. with ``--remove-legacy`` (needs ``--test``): move the legacy package into
   ``.pfdtrain-backup/<time>/`` before the tests run again;
6. with ``--test``: the tests again, with ``PFDTRAIN_DISABLE_SHIMS=1``; if they do worse, the
   legacy package is moved back and every checkpoint migrated in step 4 is restored from its
   backup (verified against the digest taken before the migration, replaced atomically);
7. a before/after table, what was left alone and why, and for each reader the lines to change.

User code is never deleted: the legacy package is only ever moved to the backup folder, and only
when asked; readers are reported, never rewritten. ``--dry-run`` writes nothing and runs no test
command: it shows what steps 3-5 would do.

Exit status: 0 done (with ``--test``: the after-run is not worse; checkpoints held back for their
readers are reported, not an error); 1 the after-run is worse (everything undoable was undone);
3 a step failed (the test command did not finish before the rewrite, so nothing was changed; a
file the codemod could not parse or write; a checkpoint that did not migrate or could not be
restored). Usage errors exit 2.
"""

from __future__ import annotations

import io
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pfdtrain.cli.checkpoint_rollback import Original, Restored
from pfdtrain.cli.run_tests import TestOutcome, compare, run_test_command

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.checkpoint_readers import Reader

EXIT_OK = 0
EXIT_WORSE = 1
EXIT_FAILED = 3
BACKUP_DIR = ".pfdtrain-backup"
DEFAULT_TIMEOUT = 1800.0
SUMMARY_TITLE = "pfdtrain upgrade: before and after"


class UpgradeError(Exception):
    """Options that cannot work together, or a path that is not a repository folder."""


@dataclass
class Remaining:
    """A legacy reference still in the code after the run, and why."""

    path: str
    line: int
    legacy: str
    message: str


@dataclass
class UpgradeResult:
    root: Path
    dry_run: bool = False
    test_command: str | None = None
    references_before: int = 0
    references_after: int | None = None
    files_rewritten: list[str] = field(default_factory=list)
    line_changes: dict[str, tuple[int, int]] = field(default_factory=dict)
    codemod_failed: list[tuple[str, str]] = field(default_factory=list)
    vendored: list[dict] = field(default_factory=list)
    remaining: list[Remaining] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)  # v1 files found (relative to root)
    checkpoints_migrated: int = 0
    checkpoint_failures: int = 0
    checkpoints_skipped: bool = False
    readers: list[Reader] = field(default_factory=list)  # code reading checkpoints with v1 keys
    readers_after: list[Reader] | None = None  # None: the same (upgrade never changes them; the demo does)
    reader_layouts: list[str] = field(default_factory=list)  # layouts of the checkpoints found (advice)
    checkpoints_held: bool = False  # left as v1 because of the readers (no --test, no --migrate-checkpoints)
    originals: list[Original] = field(default_factory=list)  # recorded before the migration (with --test)
    checkpoints_restored: list[Restored] = field(default_factory=list)
    legacy_packages: list[str] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)  # legacy package -> its backup (relative to root)
    restored: bool = False
    before: TestOutcome | None = None
    after: TestOutcome | None = None
    worse: bool = False
    why: str = ""
    aborted: str | None = None
    seconds: float = 0.0

    @property
    def restore_failures(self) -> int:
        return sum(1 for r in self.checkpoints_restored if r.status == "failed")

    @property
    def rolled_back(self) -> int:
        """Checkpoints put back as they were after a worse test run."""
        return sum(1 for r in self.checkpoints_restored if r.status == "restored")

    @property
    def exit_code(self) -> int:
        if self.aborted is not None or self.codemod_failed or self.checkpoint_failures or self.restore_failures:
            return EXIT_FAILED
        return EXIT_WORSE if self.worse else EXIT_OK


def run_upgrade(root: Path, *, test: str | None = None, dry_run: bool = False, remove_legacy: bool = False,
                skip_checkpoints: bool = False, migrate_checkpoints: bool = False, timeout: float = DEFAULT_TIMEOUT,
                exclude: Sequence[str] = (), console: Console | None = None, progress: bool = False,
                print_summary: bool = True) -> UpgradeResult:
    """Run the steps of the module docstring on ``root``; returns what happened (see ``exit_code``)."""
    console = console or Console(soft_wrap=True)
    if not root.is_dir():
        raise UpgradeError(f"{root} is not a folder: give the root of the repository to upgrade")
    if remove_legacy and test is None:
        raise UpgradeError("--remove-legacy needs --test: the legacy package is moved away only when the tests "
                           "can show that nothing needs it any more")
    if skip_checkpoints and migrate_checkpoints:
        raise UpgradeError("--skip-checkpoints and --migrate-checkpoints contradict each other: give one of them")
    started = time.monotonic()
    root = root.resolve()
    result = UpgradeResult(root, dry_run=dry_run, test_command=test)
    _step_scan(console, result, exclude)
    if test is not None and not dry_run:
        console.rule("2. tests before the migration (drop-in shims available)")
        result.before = _run_tests(console, test, root, shims=True, timeout=timeout)
        if result.before.returncode is None:
            result.aborted = (f"the test command did not finish before the migration ({result.before.error}); "
                              "nothing changed")
            console.print(f"[red]{escape(result.aborted)}[/]")
            result.seconds = time.monotonic() - started
            return result
    _step_codemod(console, result, exclude)
    _step_checkpoints(console, result, skip_checkpoints, migrate_checkpoints, progress)
    if remove_legacy and not dry_run:
        _step_remove_legacy(console, result)
    if test is not None and not dry_run:
        console.rule("6. tests after the migration (PFDTRAIN_DISABLE_SHIMS=1)")
        result.after = _run_tests(console, test, root, shims=False, timeout=timeout)
        assert result.before is not None
        result.worse, result.why = compare(result.before, result.after)
        if result.worse:
            console.print(f"[red]The tests do worse after the migration: {escape(result.why)}[/]")
            if result.after.tail:
                console.print(escape(result.after.tail), highlight=False)
            through = sorted({r.path for r in result.readers if _mentions(result.after.tail, r.path)})
            if through:
                console.print(f"[yellow]The failures go through {escape(', '.join(through))}, found in step 1 reading "
                              "checkpoints with v1 keys (the lines to change are listed at the end).[/]",
                              highlight=False)
            if result.moved:
                _restore(console, result)
            if result.originals:
                _rollback_checkpoints(console, result)
    _step_rescan(result, exclude)
    result.seconds = time.monotonic() - started
    if print_summary:
        console.print(summary_table(result))
        print_left_alone(console, result)
        print_readers(console, result)
    return result


# ------------------------------------------------------------------------------------ steps
def _mentions(output: str, path: str) -> bool:
    """Does test output name ``path`` (``evaluate.py:21``, ``File ".../evaluate.py", line 21``)?"""
    return re.search(r'(?:^|[\s"/])' + re.escape(path) + r'(?:$|[:"\s,])', output, re.MULTILINE) is not None


def _shown(result: UpgradeResult, path: Path) -> str:
    try:
        return path.relative_to(result.root).as_posix()
    except ValueError:
        return path.as_posix()


def _step_scan(console: Console, result: UpgradeResult, exclude: Sequence[str]) -> None:
    from codemods._layout import find_legacy_packages
    from pfdtrain.cli.scan import scan

    console.rule("1. scan: what still uses the legacy package")
    report = scan(result.root, exclude)
    result.references_before = report.legacy_left()
    result.vendored = report.vendored()
    result.legacy_packages = [_shown(result, p) for p in find_legacy_packages(result.root)]
    for name, items in sorted(report.references.items()):
        own = sum(1 for ref in items if not ref.get("vendored"))
        if own:
            console.print(f"  {name}: {own} legacy reference(s)")
    for item in result.vendored:
        console.print(f"  {item['copy']}: a vendored copy of the package; {item['references']} reference(s) in "
                      f"{len(item['files'])} file(s) resolve to it (left as written)")
    for folder in result.legacy_packages:
        console.print(f"  {folder}: the legacy package")
    for record in report.checkpoints:
        if record["needs_migration"] and not record["error"]:
            result.checkpoints.append(record["path"])
            console.print(f"  {record['path']}: checkpoint, layout [bold]{record['layout']}[/]")
    result.readers, result.reader_layouts = report.readers, report.checkpoint_layouts()
    for reader in result.readers:
        console.print(f"  [yellow]{escape(reader.message())}[/]", highlight=False)


def _run_tests(console: Console, test: str, root: Path, *, shims: bool, timeout: float) -> TestOutcome:
    console.print(f"  $ {escape(test)}" + ("" if shims else "   (with PFDTRAIN_DISABLE_SHIMS=1)"), highlight=False)
    outcome = run_test_command(test, root, shims=shims, timeout=timeout)
    console.print(f"  {escape(outcome.describe())} ({outcome.seconds:.1f} s)")
    return outcome


def _step_codemod(console: Console, result: UpgradeResult, exclude: Sequence[str]) -> None:
    from pfdtrain.cli.codemod import rewrite_paths

    console.rule("3. codemod: rewrite the imports (default run: behaviour unchanged)"
                 + (" - dry run, nothing written" if result.dry_run else ""))
    err = io.StringIO()
    summary = rewrite_paths([result.root], check=result.dry_run, exclude=exclude, out=io.StringIO(), err=err)
    result.files_rewritten = [_shown(result, Path(name).resolve()) for name in summary.changed]
    result.line_changes = {_shown(result, Path(n).resolve()): c for n, c in summary.line_changes.items()}
    result.codemod_failed = summary.failed
    verb = "would rewrite" if result.dry_run else "rewrote"
    for name in result.files_rewritten:
        plus, minus = result.line_changes.get(name, (0, 0))
        console.print(f"  {verb} {name}: [green]+{plus}[/] [red]-{minus}[/]")
    for name, error in summary.failed:
        console.print(f"  [red]{escape(name)}: {escape(error)}[/]")
    if not result.files_rewritten:
        console.print("  nothing to rewrite")


def _step_checkpoints(console: Console, result: UpgradeResult, skip: bool, force: bool, progress: bool) -> None:
    from pfdtrain.cli import checkpoint_rollback
    from pfdtrain.cli.migrate import run_migrate

    console.rule("4. migrate-checkpoint: v1 checkpoints to v2 (verified, backups kept)"
                 + (" - dry run" if result.dry_run else ""))
    if not result.checkpoints:
        console.print("  no legacy checkpoint found")
        return
    if skip:
        result.checkpoints_skipped = True
        console.print(f"  {len(result.checkpoints)} left as they are (--skip-checkpoints)")
        return
    readers = len(result.readers)
    if readers and result.test_command is None and not force:
        result.checkpoints_held = True
        console.print(f"  [bold yellow]{len(result.checkpoints)} {'would be ' if result.dry_run else ''}left as they "
                      f"are:[/] {readers} place(s) in the code (step 1) read checkpoints with v1 keys and would break "
                      "on v2 files. To go on: change them (the lines are listed at the end) and run again; or run "
                      "again with --test CMD (migrated, and restored from the backups if your tests do worse); or "
                      "with --migrate-checkpoints to migrate anyway (backups kept).", highlight=False)
        return
    if readers:
        why = ("--test runs your tests after it: if they do worse, every checkpoint migrated now is restored from "
               "its backup" if result.test_command is not None else
               "--migrate-checkpoints: the lines to change are listed at the end; the originals are kept as "
               "NAME.v1.bak")
        console.print(f"  [bold yellow]{readers} place(s) in the code (step 1) read checkpoints with v1 keys and will "
                      f"break on v2 files.[/] Migrating anyway: {why}.", highlight=False)
    paths = [result.root / rel for rel in result.checkpoints]
    if result.test_command is not None and not result.dry_run:  # what a worse test run restores
        result.originals = checkpoint_rollback.record(paths)
    code = run_migrate(paths, dry_run=result.dry_run, verify=True, progress=progress, console=console,
                       err_console=console)
    if result.dry_run:
        return
    if result.originals:
        result.checkpoints_migrated = sum(1 for o in result.originals if checkpoint_rollback.migrated(o))
    else:
        result.checkpoints_migrated = sum(1 for p in paths if Path(f"{p}.v1.bak").exists())
    if code != 0:
        result.checkpoint_failures = len(paths) - result.checkpoints_migrated


def _step_remove_legacy(console: Console, result: UpgradeResult) -> None:
    console.rule("5. remove the legacy package (moved to a backup, put back if the tests do worse)")
    if not result.legacy_packages:
        console.print("  no legacy package on disk")
        return
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for rel in result.legacy_packages:
        backup = Path(BACKUP_DIR) / stamp / rel
        target = result.root / backup
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(result.root / rel), str(target))
        result.moved[rel] = backup.as_posix()
        console.print(f"  moved {rel} to {backup.as_posix()}")


def _restore(console: Console, result: UpgradeResult) -> None:
    for rel, backup in result.moved.items():
        shutil.move(str(result.root / backup), str(result.root / rel))
        console.print(f"  put {rel} back (the tests did worse without it)")
    result.restored = True


def _rollback_checkpoints(console: Console, result: UpgradeResult) -> None:
    """A worse after-run undoes the checkpoint migration too: it may be what broke the tests (a reader
    the scan could not see), and the backups make undoing it lossless."""
    from pfdtrain.cli.checkpoint_rollback import restore

    for original in result.originals:
        done = restore(original)
        result.checkpoints_restored.append(done)
        shown = _shown(result, original.path)
        if done.status == "restored":
            console.print(f"  restored {escape(shown)} {escape(done.detail)}", highlight=False)
        elif done.status == "failed":
            console.print(f"  [red]could not restore {escape(shown)}: {escape(done.detail)}[/]", highlight=False)
    if result.rolled_back:
        console.print(f"  {result.rolled_back} checkpoint(s) restored byte for byte: they are v1 files again, "
                      "as before the run")


def _step_rescan(result: UpgradeResult, exclude: Sequence[str]) -> None:
    from pfdtrain.cli.scan import scan

    report = scan(result.root, exclude, readers=False)  # upgrade never changes the readers
    if not result.dry_run:
        result.references_after = report.legacy_left()
    for path, refs in sorted(report.references.items()):
        for ref in refs:
            if ref.get("vendored") or (result.dry_run and ref["status"] == "rewritten"):
                continue
            result.remaining.append(Remaining(path, ref["line"], ref["legacy"], ref["message"]))


# ---------------------------------------------------------------------------------- reporting
def summary_table(result: UpgradeResult, title: str = SUMMARY_TITLE,
                  extra_rows: Sequence[tuple[str, str, str]] = ()) -> Table:
    """The before/after table (the demo adds its own rows)."""
    table = Table(title=title)
    table.add_column("")
    table.add_column("before", justify="right")
    table.add_column("after" + (" (dry run)" if result.dry_run else ""), justify="right")
    after_refs = "-" if result.references_after is None else str(result.references_after)
    table.add_row("legacy `training` references (vendored copies aside)", str(result.references_before), after_refs)
    table.add_row("files rewritten by the codemod", "", str(len(result.files_rewritten)))
    table.add_row("behaviour-changing rewrites", "", "0 (default run)")
    kept = len(result.checkpoints) - result.checkpoints_migrated + result.rolled_back
    table.add_row("v1 checkpoints", str(len(result.checkpoints)),
                  str(kept) + (" (held back for the readers below)" if result.checkpoints_held else ""))
    migrated = str(result.checkpoints_migrated)
    if result.rolled_back:
        migrated += f", {result.rolled_back} restored (the tests did worse)"
    table.add_row("checkpoints migrated to v2 (backups kept)", "", migrated)
    if result.readers or result.readers_after or result.checkpoints:
        if result.readers_after is None:
            after = str(len(result.readers)) + (" (upgrade does not change them)" if result.readers else "")
        else:
            after = str(len(result.readers_after))
        table.add_row("code reading checkpoints with v1 keys", str(len(result.readers)), after)
    for rel in result.legacy_packages:
        if rel in result.moved and not result.restored:
            after = f"moved to {BACKUP_DIR}/"
        elif result.restored:
            after = "put back (the tests did worse without it)"
        else:
            after = "still there" + (" (nothing imports it)" if result.references_after == 0 else "")
        table.add_row("legacy package", rel, after)
    if result.before is not None:
        after = "-" if result.after is None else result.after.describe() + " (shims disabled)"
        table.add_row("tests (the --test command)", result.before.describe() + " (shims on)", after)
    for row in extra_rows:
        table.add_row(*row)
    table.caption = _verdict(result)
    return table


def _verdict(result: UpgradeResult) -> str:
    took = f"{result.seconds:.1f}s"
    if result.aborted is not None:
        return f"{took}; stopped: {result.aborted}"
    if result.dry_run:
        return f"{took}; dry run: nothing was written and no test ran"
    if result.codemod_failed or result.checkpoint_failures:
        return f"{took}; some steps failed (listed above)"
    if result.after is None:
        held = "; checkpoints left as v1 for the readers listed below" if result.checkpoints_held else ""
        return f"{took}; no --test given: run your tests with PFDTRAIN_DISABLE_SHIMS=1 to check the migration{held}"
    if result.worse:
        undone = "; the checkpoints were restored from their backups" if result.rolled_back else ""
        return f"{took}; the tests do WORSE after the migration: {result.why}{undone}"
    return f"{took}; the tests give the same result without the legacy package's shims"


def print_left_alone(console: Console, result: UpgradeResult) -> None:
    """What the run did not change, and why (vendored copies, names without a mapping, ...)."""
    lines = [f"{item['copy']}: a vendored copy of the package; {item['references']} reference(s) in "
             f"{', '.join(item['files'])} resolve to it and run its code, so they were left as written "
             "(`pfdtrain codemod --include-vendored` rewrites them to pfdtrain.compat)" for item in result.vendored]
    lines += [f"{r.path}:{r.line}: {r.legacy}: {r.message}" for r in result.remaining]
    lines += [f"{name}: {error}" for name, error in result.codemod_failed]
    if result.checkpoints_skipped:
        lines.append(f"{len(result.checkpoints)} v1 checkpoint(s): --skip-checkpoints")
    elif result.checkpoints_held:
        lines.append(f"{len(result.checkpoints)} v1 checkpoint(s): {len(result.readers)} place(s) in the code read "
                     "them with v1 keys (below); change them and run again, or run with --test CMD or "
                     "--migrate-checkpoints")
    elif result.checkpoint_failures:
        lines.append(f"{result.checkpoint_failures} checkpoint(s) did not migrate (see step 4)")
    if result.rolled_back:
        lines.append(f"{result.rolled_back} checkpoint(s) migrated and then restored from their backups, because "
                     "the tests did worse: v1 files again, byte for byte")
    lines += [f"{_shown(result, r.path)}: not restored: {r.detail}" for r in result.checkpoints_restored
              if r.status == "failed"]
    if result.checkpoints_migrated > result.rolled_back and not result.dry_run:
        lines.append("migrated checkpoints are v2 files now (the originals are NAME.v1.bak)" + (
            ": the code listed below reads them with v1 keys and breaks on them unless changed"
            if result.readers else "; no code found that reads them with v1 keys"))
    for rel in result.legacy_packages:
        if rel not in result.moved or result.restored:
            lines.append(f"{rel}: the legacy package, still on disk" + (
                "; nothing imports it any more: delete it, or rerun with --remove-legacy --test CMD"
                if result.references_after == 0 else ""))
    if not lines:
        return
    console.print("\n[bold]Left alone[/]:")
    for line in lines:
        console.print(f"  {escape(line)}", highlight=False)



def print_readers(console: Console, result: UpgradeResult) -> None:
    """Each reader of v1 keys with the lines to change (or how to keep v1 files for it)."""
    from pfdtrain.checkpoint_readers import advice_lines

    if not result.readers:
        return
    console.print(f"\n[bold]Checkpoint readers[/] ({len(result.readers)}): code that loads checkpoint files itself and "
                  "reads them with v1 keys; on v2 files it fails. To change:")
    for reader in result.readers:
        console.print(f"  {escape(reader.message())}", highlight=False)
        for line in advice_lines(reader, result.reader_layouts):
            console.print(f"      {escape(line)}", highlight=False)
