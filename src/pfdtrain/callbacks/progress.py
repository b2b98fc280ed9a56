"""The default progress display: a rich bar on a terminal, one plain line per epoch elsewhere."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from pfdtrain.callbacks._utils import epoch_record
from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.text import Text

    from pfdtrain.trainer.trainer import Trainer


class ProgressBar(Callback):
    """Show training progress without slowing training down.

    On a terminal: while an epoch runs, a live rich progress bar (batches done/total, elapsed and
    remaining time, the latest training loss; validation batches too); when it ends, the bar is
    replaced by one summary line with the epoch's metrics (kept on screen when ``leave=True``).
    Elsewhere (CI logs, files, notebooks that are not terminals): exactly one plain line per
    epoch, such as
    ``Epoch 1/5 - train_loss=0.1234 train_acc=0.9500 val_loss=0.2000 val_acc=0.9000 lr=1.0e-03 (1.2s)``.

    Cost: per batch the bar compares ``time.monotonic()`` with the next refresh time and
    returns. Only every ``refresh_rate`` seconds does it read the loss (the one device
    synchronisation it causes) and redraw; rich runs no refresh thread, and the live bar first
    appears one refresh interval into an epoch, so short epochs cost one printed line. Only the
    global-zero process shows anything.
    """

    is_progress_bar = True
    #: Width of the bar drawn in the terminal summary line.
    SUMMARY_BAR_WIDTH = 20

    def __init__(self, refresh_rate: float = 0.1, leave: bool = True, console: Console | None = None) -> None:
        if (
            not isinstance(refresh_rate, (int, float))
            or isinstance(refresh_rate, bool)
            or not refresh_rate >= 0
            or math.isinf(refresh_rate)
        ):
            raise ConfigurationError(
                f"ProgressBar(refresh_rate=...) is the number of seconds between redraws, a finite "
                f"number >= 0 (0: every batch); received {refresh_rate!r}."
            )
        if console is not None:
            from rich.console import Console

            if not isinstance(console, Console):
                raise ConfigurationError(
                    f"ProgressBar(console=...) must be a rich.console.Console; received {type(console).__name__}."
                )
        self.refresh_rate = float(refresh_rate)
        self.leave = bool(leave)
        self._console = console
        self._progress: Progress | None = None
        self._train_task: TaskID | None = None
        self._val_task: TaskID | None = None
        self._live = False  # draw a live bar this epoch (terminal, global zero)
        self._next_refresh = math.inf
        self._epoch_start = time.monotonic()
        self._title_text = ""
        self._total: int | None = None
        self._val_total: int | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console()
        return self._console

    @property
    def is_terminal(self) -> bool:
        return bool(self.console.is_terminal)

    # ------------------------------------------------------------------ hooks

    def on_train_epoch_start(self, trainer: Trainer) -> None:
        self._stop_progress()
        self._epoch_start = time.monotonic()
        self._live = bool(getattr(trainer, "is_global_zero", True)) and self.is_terminal
        self._next_refresh = self._epoch_start + self.refresh_rate if self._live else math.inf
        self._title_text = self._title(trainer)
        self._total = getattr(trainer, "num_training_batches", None)

    def on_train_batch_end(self, trainer: Trainer, outputs: Any, batch: Any, batch_idx: int) -> None:
        now = time.monotonic()
        if now < self._next_refresh:
            return  # the common case: nothing else happens per batch
        self._next_refresh = now + self.refresh_rate
        loss = getattr(outputs, "loss", None)
        info = "" if loss is None else f"loss={_fmt('loss', loss.item() if hasattr(loss, 'item') else loss)}"
        if self._progress is None:
            self._start_progress(completed=batch_idx + 1, info=info)
        elif self._train_task is not None:  # always, while a progress display is up
            self._progress.update(self._train_task, completed=batch_idx + 1, info=info, refresh=True)

    def on_validation_start(self, trainer: Trainer) -> None:
        if self._live:
            self._val_total = _safe_len(getattr(trainer, "val_dataloader", None))

    def on_validation_batch_end(self, trainer: Trainer, outputs: Any, batch: Any, batch_idx: int) -> None:
        now = time.monotonic()
        if now < self._next_refresh:
            return
        self._next_refresh = now + self.refresh_rate
        progress = self._progress if self._progress is not None else self._start_progress(completed=None, info="")
        if self._val_task is None:
            self._val_task = progress.add_task("Validation", total=self._val_total, info="")
        progress.update(self._val_task, completed=batch_idx + 1, refresh=True)

    def on_validation_end(self, trainer: Trainer) -> None:
        if self._progress is not None and self._val_task is not None:
            self._progress.remove_task(self._val_task)
        self._val_task = None

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        self._stop_progress()
        if not getattr(trainer, "is_global_zero", True):
            return
        elapsed = time.monotonic() - self._epoch_start
        metrics = format_metrics(epoch_record(trainer) or dict(trainer.callback_metrics))
        if not self._live:
            self.console.out(f"{self._title_text} - {metrics} ({elapsed:.1f}s)", highlight=False)
        elif self.leave:
            self.console.print(self._summary(trainer, metrics, elapsed), soft_wrap=True)
        self._live = False
        self._next_refresh = math.inf

    def on_fit_end(self, trainer: Trainer) -> None:
        self._stop_progress()

    def on_exception(self, trainer: Trainer, exception: BaseException) -> None:
        self._stop_progress()  # give the terminal back before the traceback is printed

    # ------------------------------------------------------------------ helpers

    def _start_progress(self, completed: int | None, info: str) -> Progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=self.console,
            auto_refresh=False,  # no refresh thread competing with the training loop
            transient=True,  # replaced by the summary line at the end of the epoch
        )
        self._train_task = progress.add_task(
            self._title_text, total=self._total, completed=completed or 0, info=info
        )
        progress.start()  # draws once
        self._progress = progress
        return progress

    def _stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._progress = None
        self._train_task = self._val_task = None

    def _summary(self, trainer: Trainer, metrics: str, elapsed: float) -> Text:
        from rich.text import Text

        done = int(getattr(trainer, "batch_idx", -1)) + 1
        width = self.SUMMARY_BAR_WIDTH
        if self._total:
            filled = min(width, round(width * done / self._total))
            bar: list[str | tuple[str, str]] = [
                ("━" * filled, "green"), ("━" * (width - filled), "grey23"), f" {done}/{self._total}"
            ]
        else:
            bar = [("━" * width, "green"), f" {done}"]
        return Text.assemble((self._title_text, "bold"), " ", *bar, " ", metrics, f" ({elapsed:.1f}s)")

    @staticmethod
    def _title(trainer: Trainer) -> str:
        epoch = int(trainer.current_epoch) + 1
        total = getattr(trainer, "max_epochs", None)
        return f"Epoch {epoch}/{total}" if total else f"Epoch {epoch}"


def format_metrics(metrics: dict[str, Any]) -> str:
    """``train_loss=0.1234 ... lr=1.0e-03``: learning rates in scientific notation, others 4 decimals."""
    return " ".join(f"{k}={_fmt(k, v)}" for k, v in metrics.items() if k != "epoch" and v is not None)


def _fmt(name: str, value: Any) -> str:
    if isinstance(value, (bool, int)):
        return str(value)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if name == "lr" or name.startswith(("lr_", "lr-")):
        return f"{value:.1e}"
    return f"{value:.4f}"


def _safe_len(obj: Any) -> int | None:
    try:
        return len(obj)
    except TypeError:
        return None
