"""Log each epoch's metrics to MLflow (optional extra ``pfdtrain[mlflow]``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pfdtrain.callbacks._utils import epoch_metrics
from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import MissingExtraError

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


class MLflowLogger(Callback):
    """Log every epoch's metrics at ``step=epoch`` to an MLflow run.

    The run starts in ``on_fit_start`` (in ``experiment_name``, at ``tracking_uri`` when given)
    and ends in ``on_fit_end`` (FINISHED) or ``on_exception`` (FAILED; KILLED on Ctrl-C). A run
    that is already active when fit() starts is used and left open. The run id is part of
    :meth:`state_dict`, so a resumed fit() continues the same run. ``mlflow`` is imported in the
    constructor, so a missing extra fails at once with the install command. Only the global-zero
    process logs.
    """

    def __init__(self, experiment_name: str = "pfdtrain", run_name: str | None = None, tracking_uri: str | None = None) -> None:
        try:
            import mlflow
        except ImportError:
            raise MissingExtraError("MLflowLogger", "mlflow", "mlflow") from None
        self._mlflow = mlflow
        self.experiment_name = experiment_name
        self.run_name = run_name
        self.tracking_uri = tracking_uri
        self.run_id: str | None = None
        self._owns_run = False
        self._running = False

    @property
    def state_key(self) -> str:
        return self._generate_state_key(experiment_name=self.experiment_name, run_name=self.run_name)

    def on_fit_start(self, trainer: Trainer) -> None:
        if not getattr(trainer, "is_global_zero", True):
            return
        mlflow = self._mlflow
        active = mlflow.active_run()
        if active is not None:
            self.run_id, self._owns_run = active.info.run_id, False
        else:
            if self.tracking_uri is not None:
                mlflow.set_tracking_uri(self.tracking_uri)
            mlflow.set_experiment(self.experiment_name)
            if self.run_id is not None:  # resumed from a checkpoint: continue that run
                run = mlflow.start_run(run_id=self.run_id)
            else:
                run = mlflow.start_run(run_name=self.run_name)
            self.run_id, self._owns_run = run.info.run_id, True
        self._running = True

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        if not self._running:
            return
        metrics = epoch_metrics(trainer)
        if metrics:
            self._mlflow.log_metrics(metrics, step=int(trainer.current_epoch))

    def on_fit_end(self, trainer: Trainer) -> None:
        self._end("FINISHED")

    def on_exception(self, trainer: Trainer, exception: BaseException) -> None:
        self._end("KILLED" if isinstance(exception, KeyboardInterrupt) else "FAILED")

    def _end(self, status: str) -> None:
        if self._running and self._owns_run:
            self._mlflow.end_run(status=status)
        self._running = self._owns_run = False

    def state_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.run_id = state.get("run_id")
