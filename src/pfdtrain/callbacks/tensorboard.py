"""Log each epoch's metrics to TensorBoard (optional extra ``pfdtrain[tensorboard]``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pfdtrain.callbacks._utils import epoch_metrics
from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import MissingExtraError

if TYPE_CHECKING:  # pragma: no cover
    from torch.utils.tensorboard import SummaryWriter

    from pfdtrain.trainer.trainer import Trainer


class TensorBoardLogger(Callback):
    """Write every epoch's metrics as scalars at ``step=epoch`` to ``save_dir / name``.

    ``save_dir`` defaults to ``trainer.default_root_dir``. The events are flushed at the end of
    every epoch and the file is closed when fit() ends or fails. A resumed fit() (one that starts
    at epoch ``n > 0``) writes into the same folder and tells TensorBoard to drop the steps
    ``>= n`` that an interrupted run had logged after its checkpoint, so that every epoch shows
    once. The library is imported here, in the constructor, so a missing extra fails at once
    with the install command rather than after the first epoch. Only the global-zero process
    writes.
    """

    def __init__(self, save_dir: str | os.PathLike[str] | None = None, name: str = "tensorboard") -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise MissingExtraError("TensorBoardLogger", "tensorboard", "tensorboard") from None
        self._writer_cls = SummaryWriter
        self.save_dir = Path(save_dir) if save_dir is not None else None
        self.name = name
        self.log_dir: Path | None = None
        self.writer: SummaryWriter | None = None

    @property
    def state_key(self) -> str:
        return self._generate_state_key(save_dir=None if self.save_dir is None else str(self.save_dir), name=self.name)

    def on_fit_start(self, trainer: Trainer) -> None:
        if getattr(trainer, "is_global_zero", True) and self.writer is None:
            root = self.save_dir
            if root is None:
                root = Path(getattr(trainer, "default_root_dir", "pfdtrain_runs"))
            self.log_dir = root / self.name
            start = int(getattr(trainer, "current_epoch", 0))
            # purge_step: events at steps >= start in earlier files are orphans of a crashed run.
            self.writer = self._writer_cls(log_dir=str(self.log_dir), purge_step=start if start > 0 else None)

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        if self.writer is None:
            return
        epoch = int(trainer.current_epoch)
        for name, value in epoch_metrics(trainer).items():
            self.writer.add_scalar(name, value, global_step=epoch)
        self.writer.flush()

    def on_fit_end(self, trainer: Trainer) -> None:
        self._close()

    def on_exception(self, trainer: Trainer, exception: BaseException) -> None:
        self._close()

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

