"""The main job of README command 1: move a legacy-style project to pfdtrain, end to end.

Copies the bundled ``examples/legacy_project`` to a work folder, then scan -> codemod (with a diff
summary) -> migrate its v1 checkpoints -> resume training from a migrated checkpoint for one short
epoch with progress -> a before/after summary. Every step uses the same code as the commands
``pfdtrain scan``, ``pfdtrain codemod`` and ``migrate-checkpoint``.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import io
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

import pfdtrain

MARKER = ".pfdtrain-demo"
SUMMARY_TITLE = "pfdtrain demo: before and after"


class DemoError(Exception):
    """A problem the user can fix (a folder in the way, a missing example project)."""


@dataclass
class DemoResult:
    project: Path
    references_before: int = 0
    references_after: int = 0
    files_rewritten: list[str] = field(default_factory=list)
    checkpoints_before: dict[str, str] = field(default_factory=dict)
    checkpoints_migrated: int = 0
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
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.v1.bak"))
    (target / MARKER).write_text("created by `pfdtrain demo`; safe to delete\n", encoding="utf-8")
    return target


def run_demo(workdir: Path = Path("pfdtrain_demo"), project: Path | None = None, progress: bool = True,
             console: Console | None = None) -> DemoResult:
    console = console or Console()
    started = time.monotonic()
    target = prepare_workdir(project or bundled_project(), workdir)
    result = DemoResult(project=target)
    console.rule("[bold]pfdtrain demo")
    console.print(f"Copied the legacy-style example project to [bold]{target}[/]")

    _step_scan(console, result)
    _step_codemod(console, result)
    _step_migrate(console, result, progress)
    _step_resume(console, result, progress)
    result.seconds = time.monotonic() - started
    console.print(_summary(result))
    return result


# ------------------------------------------------------------------------------------ steps


def _step_scan(console: Console, result: DemoResult) -> None:
    from pfdtrain.cli.scan import scan

    console.rule("1. scan: what still uses the legacy package")
    report = scan(result.project)
    result.references_before = sum(len(v) for v in report.references.values())
    for name, items in sorted(report.references.items()):
        console.print(f"  {name}: {len(items)} legacy reference(s)")
    for record in report.checkpoints:
        result.checkpoints_before[record["path"]] = record.get("layout", "?")
        console.print(f"  {record['path']}: checkpoint, layout [bold]{record.get('layout', '?')}[/]")


def _step_codemod(console: Console, result: DemoResult) -> None:
    from pfdtrain.cli.codemod import run_codemod

    console.rule("2. codemod: rewrite the imports (diff summary)")
    before = {p: p.read_text(encoding="utf-8") for p in result.project.rglob("*.py")}
    with _chdir(result.project):
        code = run_codemod([Path(".")], out=io.StringIO(), err=io.StringIO())
    if code not in (0,):
        raise DemoError(f"the codemod failed on the example project (exit status {code})")
    for path, old in sorted(before.items()):
        new = path.read_text(encoding="utf-8")
        if new == old:
            continue
        plus = minus = 0
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
            if line.startswith("+") and not line.startswith("+++"):
                plus += 1
            elif line.startswith("-") and not line.startswith("---"):
                minus += 1
        name = path.relative_to(result.project).as_posix()
        result.files_rewritten.append(name)
        console.print(f"  {name}: [green]+{plus}[/] [red]-{minus}[/]")
    from pfdtrain.cli.scan import scan

    result.references_after = sum(len(v) for v in scan(result.project).references.values())


def _step_migrate(console: Console, result: DemoResult, progress: bool) -> None:
    from pfdtrain.cli.migrate import run_migrate

    console.rule("3. migrate-checkpoint: v1 checkpoints to v2 (verified, backups kept)")
    with _chdir(result.project):
        code = run_migrate([Path("checkpoints")], verify=True, progress=progress, console=console,
                           err_console=console)
    if code != 0:
        raise DemoError(f"migrate-checkpoint failed on the example checkpoints (exit status {code})")
    result.checkpoints_migrated = len(list((result.project / "checkpoints").rglob("*.v1.bak")))


def _step_resume(console: Console, result: DemoResult, progress: bool) -> None:
    import torch

    from pfdtrain.checkpoint import load
    from pfdtrain.seed import seed_everything
    from pfdtrain.trainer.trainer import Trainer

    console.rule("4. resume: one more epoch from the migrated CNN checkpoint, with the core Trainer")
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


def _summary(result: DemoResult) -> Table:
    table = Table(title=SUMMARY_TITLE)
    table.add_column("")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_row("legacy `training` references", str(result.references_before), str(result.references_after))
    table.add_row("files rewritten by the codemod", "", str(len(result.files_rewritten)))
    table.add_row("v1 checkpoints", str(len(result.checkpoints_before)),
                  str(len(result.checkpoints_before) - result.checkpoints_migrated))
    table.add_row("checkpoints migrated to v2 (backups kept)", "", str(result.checkpoints_migrated))
    fmt = lambda v: "-" if v is None else f"{v:.2f}%"  # noqa: E731
    table.add_row("CNN validation accuracy (best so far / after the resumed epoch)",
                  fmt(result.val_acc_before), fmt(result.val_acc_after))
    written = result.resumed_checkpoint
    if written is not None:
        written = Path(written).relative_to(result.project)
    table.add_row("v2 checkpoint of the resumed run", "", str(written))
    table.caption = f"{result.seconds:.1f}s; the rewritten project is in {result.project}"
    return table


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
