"""The main job of README command 1: move a legacy-style project to pfdtrain, end to end.

Copies the bundled ``examples/legacy_project`` to a work folder and does what a user does with
``pfdtrain upgrade`` on it (one implementation): scan -> the project's tests as they are -> codemod
-> migrate its v1 checkpoints -> remove its legacy package -> its tests again with
``PFDTRAIN_DISABLE_SHIMS=1``.

The project's ``evaluate.py`` reads its checkpoints itself with the v1 keys, and a test evaluates
the shipped checkpoints with it: the first run shows the scan finding it, the tests failing on the
migrated files, and every checkpoint restored byte for byte (exit status 1). The demo then makes
the change the report lists, as the user would, and runs ``pfdtrain upgrade`` again, which goes
through. Last, it resumes training from a migrated checkpoint for one short epoch with the core
``Trainer`` and prints the before/after table of the whole journey.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import importlib
import importlib.util
import shlex
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

import pfdtrain
from pfdtrain.cli.upgrade import UpgradeResult, print_left_alone, print_readers, run_upgrade, summary_table

MARKER = ".pfdtrain-demo"
SUMMARY_TITLE = "pfdtrain demo: before and after"


class DemoError(Exception):
    """A problem the user can fix (a folder in the way, a missing example project)."""


@dataclass
class DemoResult:
    project: Path
    upgrade: UpgradeResult  # the run that went through
    first: UpgradeResult | None = None  # the run whose tests failed on the migrated files (rolled back)
    changed: list[str] = dataclasses.field(default_factory=list)  # files the demo changed as the report said
    resumed_from: Path | None = None
    val_acc_before: float | None = None
    val_acc_after: float | None = None
    resumed_checkpoint: Path | None = None
    seconds: float = 0.0


def bundled_project() -> Path:
    """``examples/legacy_project`` of the checkout pfdtrain runs from."""
    root = Path(pfdtrain.__file__).resolve().parents[2]
    candidate = root / "examples" / "legacy_project"
    if candidate.is_dir():
        return candidate
    raise DemoError(
        "the demo needs the example project examples/legacy_project, which is not next to this "
        f"installation ({root}). Run the demo from a clone of the pfdtrain repository (README "
        "command 1), or pass --project PATH to a copy of it."
    )


def prepare_workdir(source: Path, workdir: Path) -> Path:
    """Copy ``source`` to ``workdir/legacy_project``; only a previous demo copy is ever replaced."""
    target = workdir / "legacy_project"
    if target.exists():
        if not (target / MARKER).exists():
            raise DemoError(
                f"{target} exists and was not made by the demo; choose another --workdir "
                "(the demo never deletes folders it did not create)."
            )
        shutil.rmtree(target)
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.v1.bak",
                                                                  ".pfdtrain-backup"))
    (target / MARKER).write_text("created by `pfdtrain demo`; safe to delete\n", encoding="utf-8")
    return target


def project_test_command() -> str:
    """The copied project's own test command (its pytest.ini names the tests)."""
    return f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider"


def run_demo(workdir: Path = Path("pfdtrain_demo"), project: Path | None = None, progress: bool = True,
             console: Console | None = None) -> DemoResult:
    console = console or Console()
    started = time.monotonic()
    if importlib.util.find_spec("pytest") is None:
        raise DemoError("the demo runs the example project's tests with pytest, which is not installed: "
                        "pip install 'pfdtrain[test]' (README command 1 installs it)")
    target = prepare_workdir(project or bundled_project(), workdir)
    console.rule("[bold]pfdtrain demo")
    console.print(f"Copied the legacy-style example project to [bold]{target}[/]; "
                  f"now `pfdtrain upgrade {target} --test ... --remove-legacy` runs on it, as on your repository")
    upgrade = _upgrade(target, console, progress)
    result = DemoResult(project=target, upgrade=upgrade)
    if upgrade.exit_code != 0 and _rolled_back_for_readers(upgrade):
        console.print(summary_table(upgrade, "the first run: the tests fail on the migrated checkpoints"))
        print_readers(console, upgrade)
        result.first = upgrade
        _step_change_readers(console, result)
        console.rule("[bold]pfdtrain upgrade again, with the readers changed")
        upgrade = result.upgrade = _upgrade(target, console, progress)
    if upgrade.exit_code != 0:
        console.print(summary_table(upgrade, SUMMARY_TITLE))
        print_left_alone(console, upgrade)
        print_readers(console, upgrade)
        raise DemoError(f"the migration of the example project did not end cleanly (exit status {upgrade.exit_code}); "
                        "see the steps above")
    _step_resume(console, result, progress)
    result.seconds = time.monotonic() - started
    journey = _journey(result)
    journey.seconds = result.seconds
    fmt = lambda v: "-" if v is None else f"{v:.2f}%"  # noqa: E731
    written = None if result.resumed_checkpoint is None else Path(result.resumed_checkpoint).relative_to(target)
    rows = [("CNN validation accuracy (best so far / after the resumed epoch)",
             fmt(result.val_acc_before), fmt(result.val_acc_after)),
            ("v2 checkpoint of the resumed run", "", str(written))]
    table = summary_table(journey, SUMMARY_TITLE, rows)
    if result.first is not None:
        table.caption = (f"{table.caption}; the first run restored the checkpoints when the tests failed on them, "
                         f"the second went through once {', '.join(result.changed)} read v2 files")
    table.caption = f"{table.caption}; the migrated project is in {target}"
    console.print(table)
    print_left_alone(console, upgrade)
    return result


def _upgrade(target: Path, console: Console, progress: bool) -> UpgradeResult:
    return run_upgrade(target, test=project_test_command(), remove_legacy=True, console=console,
                       progress=progress, print_summary=False)


def _rolled_back_for_readers(upgrade: UpgradeResult) -> bool:
    """The first run's expected end: worse tests, readers found, every migrated checkpoint restored."""
    return (upgrade.worse and bool(upgrade.readers) and upgrade.rolled_back > 0 and not upgrade.restore_failures
            and upgrade.aborted is None and not upgrade.codemod_failed and not upgrade.checkpoint_failures)


def _journey(result: DemoResult) -> UpgradeResult:
    """The before/after of the whole demo: before the first run, after the last one."""
    first = result.first
    if first is None:
        return result.upgrade
    return dataclasses.replace(
        result.upgrade, references_before=first.references_before, files_rewritten=first.files_rewritten,
        line_changes=first.line_changes, before=first.before, readers=first.readers,
        readers_after=result.upgrade.readers)


# ------------------------------------------------------------------------------------ steps


def _step_change_readers(console: Console, result: DemoResult) -> None:
    """Make the changes the report lists for each reader, as the user would, and show them."""
    from pfdtrain.checkpoint_readers import apply_edits, edits

    assert result.first is not None
    console.rule("[bold]the change the report asks for, made as you would make it")
    by_file: dict[str, list] = {}
    for reader in result.first.readers:
        by_file.setdefault(reader.path, []).extend(edits(reader))
    for rel, changes in by_file.items():
        path = result.project / rel
        old = path.read_text(encoding="utf-8")
        try:
            new = apply_edits(old, changes)
        except ValueError as exc:
            raise DemoError(f"{rel}: the suggested change cannot be made mechanically ({exc}); "
                            "change it by hand and run `pfdtrain upgrade` again") from None
        path.write_text(new, encoding="utf-8")
        result.changed.append(rel)
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), f"a/{rel}", f"b/{rel}", lineterm=""):
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            console.print(f"  [{style}]{escape(line)}[/]", highlight=False)
    console.print("  (pfdtrain.checkpoint.load_any reads v1 and v2 files alike; the tests still pass on the v1 "
                  "files, so the second run starts from the same results)")


def _step_resume(console: Console, result: DemoResult, progress: bool) -> None:
    import torch

    from pfdtrain.checkpoint import load
    from pfdtrain.seed import seed_everything
    from pfdtrain.trainer.trainer import Trainer

    console.rule("resume: one more epoch from the migrated CNN checkpoint, with the core Trainer")
    ckpt = result.project / "checkpoints" / "cnn" / "best_model.pth"
    state = load(ckpt)  # a v2 file now: plain data, weights-only
    best = state["training"].get("best_metric")  # CNNTrainer's best_val_acc, in percent
    result.val_acc_before = None if best is None else float(best)
    done_epochs = int(state["training"]["epoch"])
    with _project_on_path(result.project):
        data = importlib.import_module("bearing.data")
        models = importlib.import_module("bearing.models")
        train_loader, val_loader = data.get_loaders(batch_size=16)
        model = models.SmallCNN1D(num_classes=data.NUM_CLASSES)
    trainer = Trainer(
        model,
        lambda params: torch.optim.Adam(params, lr=0.01),
        max_epochs=done_epochs + 1,
        device="cpu",
        default_root_dir=result.project / "runs",
        enable_progress_bar=progress,
    )
    console.print(f"  resuming {ckpt.relative_to(result.project)} after epoch {done_epochs}")
    seed_everything(0)  # legacy files carry no RNG state: seed so the demo's shuffling repeats
    history = trainer.fit(train_loader, val_loader, ckpt_path=ckpt)
    result.resumed_from = ckpt
    result.val_acc_after = 100.0 * history["val_acc"][-1]
    result.resumed_checkpoint = trainer.save_checkpoint(result.project / "checkpoints" / "cnn" / "resumed.pt")


# ------------------------------------------------------------------------------------ helpers


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    old = Path.cwd()
    import os

    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@contextlib.contextmanager
def _project_on_path(project: Path) -> Iterator[None]:
    """Import the project's own modules (``bearing``) without leaving it on sys.path."""
    before = set(sys.modules)
    sys.path.insert(0, str(project))
    try:
        yield
    finally:
        sys.path.remove(str(project))
        for name in set(sys.modules) - before:
            if name == "bearing" or name.startswith("bearing."):
                del sys.modules[name]
