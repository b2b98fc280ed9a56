"""Log each epoch's metrics and the run's parameters to MLflow (optional extra ``pfdtrain[mlflow]``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pfdtrain.callbacks._utils import epoch_metrics
from pfdtrain.callbacks.base import Callback
from pfdtrain.errors import ConfigurationError, MissingExtraError

if TYPE_CHECKING:  # pragma: no cover
    from mlflow import MlflowClient

    from pfdtrain.trainer.trainer import Trainer


class MLflowLogger(Callback):
    """Log every epoch's metrics at ``step=epoch``, and the run's parameters, to an MLflow run.

    The run is created in ``on_fit_start`` (in ``experiment_name``, at ``tracking_uri`` when
    given, else at MLflow's current tracking URI) and ended in ``on_fit_end`` (FINISHED) or
    ``on_exception`` (FAILED; KILLED on Ctrl-C). Parameters are the model's ``get_config()``
    (when it has one) and ``params``; they are logged once, when the run is created, because
    MLflow never lets a parameter change. The run id is part of :meth:`state_dict`, so a fit()
    resumed from a checkpoint continues the same run.

    The logger talks to MLflow through an ``MlflowClient`` of its own: it never changes the
    process's tracking URI, active experiment or active run. A run that is already active when
    fit() starts (``with mlflow.start_run(): trainer.fit(...)``) is used instead and left open.
    ``mlflow`` is imported in the constructor, so a missing extra fails at once with the install
    command. Only the global-zero process logs.
    """

    def __init__(
        self,
        experiment_name: str = "pfdtrain",
        run_name: str | None = None,
        tracking_uri: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            import mlflow
        except ImportError:
            raise MissingExtraError("MLflowLogger", "mlflow", "mlflow") from None
        self._mlflow = mlflow
        self.experiment_name = experiment_name
        self.run_name = run_name
        self.tracking_uri = tracking_uri
        self.params: dict[str, Any] = dict(params or {})
        self.run_id: str | None = None
        self._client: MlflowClient | None = None
        self._owns_run = False

    @property
    def state_key(self) -> str:
        return self._generate_state_key(experiment_name=self.experiment_name, run_name=self.run_name)

    def on_fit_start(self, trainer: Trainer) -> None:
        if not getattr(trainer, "is_global_zero", True):
            return
        mlflow = self._mlflow
        active = mlflow.active_run()
        if active is not None:  # the user's run: log into it, leave it open
            client = mlflow.MlflowClient(mlflow.get_tracking_uri())
            self.run_id, self._owns_run = active.info.run_id, False
            self._log_params(client, trainer)
        else:
            client = mlflow.MlflowClient(self.tracking_uri)
            if self.run_id is not None:  # resumed from a checkpoint: continue that run
                self._reopen(client, self.run_id)
            else:
                run = client.create_run(self._experiment_id(client), run_name=self.run_name, tags=self._tags())
                self.run_id = run.info.run_id
                self._log_params(client, trainer)
            self._owns_run = True
        self._client = client

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        if self._client is None or self.run_id is None:
            return
        from mlflow.entities import Metric

        step, now = int(trainer.current_epoch), int(time.time() * 1000)
        metrics = [Metric(key, value, now, step) for key, value in epoch_metrics(trainer).items()]
        if metrics:
            self._client.log_batch(self.run_id, metrics=metrics)

    def on_fit_end(self, trainer: Trainer) -> None:
        self._end("FINISHED")

    def on_exception(self, trainer: Trainer, exception: BaseException) -> None:
        self._end("KILLED" if isinstance(exception, KeyboardInterrupt) else "FAILED")

    def state_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.run_id = state.get("run_id")

    # ------------------------------------------------------------------ helpers

    def _experiment_id(self, client: MlflowClient) -> str:
        experiment = client.get_experiment_by_name(self.experiment_name)
        if experiment is None:
            return client.create_experiment(self.experiment_name)
        if experiment.lifecycle_stage == "deleted":
            raise ConfigurationError(
                f"MLflow experiment {self.experiment_name!r} at {client.tracking_uri} is deleted; restore "
                "it (mlflow experiments restore) or pass another experiment_name."
            )
        return str(experiment.experiment_id)

    def _reopen(self, client: MlflowClient, run_id: str) -> None:
        from mlflow.exceptions import MlflowException

        try:
            run = client.get_run(run_id)
        except MlflowException:
            raise ConfigurationError(
                f"The checkpoint continues MLflow run {run_id!r}, which is not in the tracking store "
                f"{client.tracking_uri}; pass MLflowLogger(tracking_uri=...) with the store that holds it."
            ) from None
        if run.info.lifecycle_stage == "deleted":
            raise ConfigurationError(
                f"The checkpoint continues MLflow run {run_id!r}, which is deleted; restore it "
                "(mlflow runs restore) before resuming."
            )
        client.update_run(run_id, status="RUNNING")

    def _tags(self) -> dict[str, str]:
        """The tags ``mlflow.start_run`` would set (user, source, git commit)."""
        from mlflow.tracking.context.registry import resolve_tags

        return dict(resolve_tags())

    def _log_params(self, client: MlflowClient, trainer: Trainer) -> None:
        from mlflow.entities import Param

        params: dict[str, Any] = {}
        get_config = getattr(getattr(trainer, "unwrapped_model", None), "get_config", None)
        if callable(get_config):
            params.update(get_config())
        params.update(self.params)
        if params and self.run_id is not None:
            client.log_batch(self.run_id, params=[Param(str(k), str(v)) for k, v in params.items()])

    def _end(self, status: str) -> None:
        if self._client is not None and self._owns_run and self.run_id is not None:
            self._client.set_terminated(self.run_id, status=status)
        self._client = None
        self._owns_run = False
