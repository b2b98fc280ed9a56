"""MLflowLogger against the real MLflow library: a sqlite tracking store under tmp_path, read back
with MLflow's own ``MlflowClient``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import pytest
import torch
from mlflow import MlflowClient

from pfdtrain import Callback
from pfdtrain.errors import ConfigurationError

EPOCHS = [{"train_loss": 0.5, "val_loss": 0.4}, {"train_loss": 0.25, "val_loss": 0.3}]


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sqlite tracking store with MLflow's tables: creating them takes seconds, copying it does not."""
    path = tmp_path_factory.mktemp("mlflow_template") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def tracking_uri(tmp_path: Path, empty_store: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh store for each test; also MLflow's default here, so that nothing lands in the cwd."""
    db = tmp_path / "mlflow.db"
    shutil.copyfile(empty_store, db)
    uri = f"sqlite:///{db}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


def _runs(uri: str, experiment: str) -> list[Any]:
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    return [] if exp is None else client.search_runs([exp.experiment_id])


def _history(uri: str, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in sorted(MlflowClient(uri).get_metric_history(run_id, key), key=lambda m: m.step)]


def _assert_logged_per_epoch(uri: str, run_id: str, key: str, values: list[float]) -> None:
    """Exactly one entry per epoch, at step = epoch, holding that epoch's value."""
    logged = _history(uri, run_id, key)
    assert [step for step, _ in logged] == list(range(len(values))), key
    assert [value for _, value in logged] == pytest.approx(values, rel=1e-12), key


class ConfiguredModel(torch.nn.Linear):
    """A model that describes itself, as the legacy models and SmallCNN1D do."""

    def get_config(self) -> dict[str, Any]:
        return {"in_features": 3, "out_features": 2, "kernel_sizes": [7, 5]}


def test_missing_extra_names_the_install_command() -> None:
    # A fresh interpreter in which `import mlflow` fails as it does where the extra is not installed.
    code = (
        "import sys; sys.modules['mlflow'] = None\n"
        "from pfdtrain.callbacks import MLflowLogger\n"
        "from pfdtrain.errors import MissingExtraError\n"
        "try:\n    MLflowLogger()\n"
        "except MissingExtraError as e:\n    print(type(e).__name__, isinstance(e, ImportError), e.extra, '|', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("MissingExtraError True mlflow | MLflowLogger needs the optional dependency 'mlflow'")
    assert "pip install 'pfdtrain[mlflow]'" in out


def test_run_metrics_steps_params_and_status(make_trainer: Callable[..., Any], tracking_uri: str) -> None:
    from pfdtrain.callbacks import MLflowLogger

    before = mlflow.get_tracking_uri()
    logger = MLflowLogger(experiment_name="exp", run_name="r1", tracking_uri=tracking_uri,
                          params={"lr": 0.1, "batch_size": 32})
    make_trainer(model=ConfiguredModel(3, 2), unwrapped_model=ConfiguredModel(3, 2)).fit([logger], EPOCHS)

    (run,) = _runs(tracking_uri, "exp")
    assert run.info.run_id == logger.run_id and logger.state_dict() == {"run_id": run.info.run_id}
    assert run.info.run_name == "r1" and run.info.status == "FINISHED" and run.info.end_time is not None
    assert run.data.params == {"lr": "0.1", "batch_size": "32", "in_features": "3", "out_features": "2",
                               "kernel_sizes": "[7, 5]"}
    assert set(run.data.metrics) == {"train_loss", "val_loss"}
    assert _history(tracking_uri, run.info.run_id, "train_loss") == [(0, 0.5), (1, 0.25)]
    assert _history(tracking_uri, run.info.run_id, "val_loss") == [(0, 0.4), (1, 0.3)]
    assert "mlflow.user" in run.data.tags  # the tags mlflow.start_run would set
    # The process's MLflow state is left as it was.
    assert mlflow.get_tracking_uri() == before and mlflow.active_run() is None


@pytest.mark.parametrize(("exception", "status"), [(RuntimeError("x"), "FAILED"), (KeyboardInterrupt(), "KILLED")])
def test_exception_ends_the_run(make_trainer: Callable[..., Any], tracking_uri: str, exception: BaseException,
                                status: str) -> None:
    from pfdtrain.callbacks import MLflowLogger

    logger = MLflowLogger(tracking_uri=tracking_uri)
    trainer = make_trainer()
    logger.on_fit_start(trainer)
    (run,) = _runs(tracking_uri, "pfdtrain")
    assert run.info.status == "RUNNING"
    logger.on_exception(trainer, exception)
    logger.on_fit_end(trainer)  # nothing left to end: the status stays
    assert MlflowClient(tracking_uri).get_run(run.info.run_id).info.status == status


def test_resume_continues_the_same_run(real_trainer: Callable[..., Any], loaders: Any, tracking_uri: str,
                                       tmp_path: Path) -> None:
    """A fit that crashes in epoch 2, resumed from its last checkpoint by a new Trainer and logger."""
    from pfdtrain.callbacks import MLflowLogger, ModelCheckpoint

    class CrashAtEpoch(Callback):
        def on_train_epoch_start(self, trainer: Any) -> None:
            if trainer.current_epoch == 2:
                raise RuntimeError("simulated crash")

    def callbacks(*extra: Callback) -> list[Callback]:
        return [MLflowLogger(experiment_name="resume", run_name="r", tracking_uri=tracking_uri, params={"lr": 0.05}),
                *extra, ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)]

    first = real_trainer(callbacks(CrashAtEpoch()), max_epochs=4)
    with pytest.raises(RuntimeError, match="simulated crash"):
        first.fit(*loaders)
    (run,) = _runs(tracking_uri, "resume")
    assert run.info.status == "FAILED"
    assert [step for step, _ in _history(tracking_uri, run.info.run_id, "train_loss")] == [0, 1]

    resumed_callbacks = callbacks()
    history = real_trainer(resumed_callbacks, max_epochs=4).fit(*loaders, ckpt_path=tmp_path / "ckpt" / "last.pt")
    assert resumed_callbacks[0].run_id == run.info.run_id
    (resumed,) = _runs(tracking_uri, "resume")
    assert resumed.info.run_id == run.info.run_id and resumed.info.status == "FINISHED"
    assert resumed.data.params == {"lr": "0.05"}
    keys = [k for k in history if k != "epoch"]
    assert set(resumed.data.metrics) == set(keys)
    for key in keys:  # every epoch once, at its own step, with the value the Trainer recorded
        _assert_logged_per_epoch(tracking_uri, run.info.run_id, key, history[key])


def test_a_resumed_run_missing_from_the_store_is_a_clear_error(make_trainer: Callable[..., Any],
                                                               tracking_uri: str) -> None:
    from pfdtrain.callbacks import MLflowLogger

    logger = MLflowLogger(tracking_uri=tracking_uri)
    logger.load_state_dict({"run_id": "0123456789abcdef0123456789abcdef"})
    with pytest.raises(ConfigurationError, match=r"not in the tracking store sqlite:.*pass MLflowLogger\(tracking_uri"):
        logger.on_fit_start(make_trainer())


def test_an_active_run_is_used_and_left_open(make_trainer: Callable[..., Any], tracking_uri: str) -> None:
    from pfdtrain.callbacks import MLflowLogger

    logger = MLflowLogger(experiment_name="not-used", params={"seed": 7})
    with mlflow.start_run(run_name="users-run") as users_run:
        make_trainer().fit([logger], EPOCHS[:1])
        assert mlflow.active_run().info.run_id == users_run.info.run_id
        assert MlflowClient(tracking_uri).get_run(users_run.info.run_id).info.status == "RUNNING"
    assert logger.run_id == users_run.info.run_id
    run = MlflowClient(tracking_uri).get_run(users_run.info.run_id)
    assert run.data.params == {"seed": "7"}
    assert _history(tracking_uri, run.info.run_id, "train_loss") == [(0, 0.5)]
    assert _runs(tracking_uri, "not-used") == []


def test_without_tracking_uri_it_uses_mlflows_current_one(make_trainer: Callable[..., Any], tracking_uri: str) -> None:
    from pfdtrain.callbacks import MLflowLogger

    logger = MLflowLogger(experiment_name="default-uri")  # MLFLOW_TRACKING_URI points at tmp_path
    make_trainer().fit([logger], EPOCHS)
    (run,) = _runs(tracking_uri, "default-uri")
    assert run.info.run_id == logger.run_id and run.data.params == {}
    assert _history(tracking_uri, run.info.run_id, "val_loss") == [(0, 0.4), (1, 0.3)]


def test_other_processes_do_not_log(make_trainer: Callable[..., Any], tracking_uri: str) -> None:
    from pfdtrain.callbacks import MLflowLogger

    logger = MLflowLogger(experiment_name="rank1", tracking_uri=tracking_uri)
    make_trainer(is_global_zero=False).fit([logger], EPOCHS)
    assert MlflowClient(tracking_uri).get_experiment_by_name("rank1") is None
    assert logger.run_id is None


# ---------------------------------------------------------------------- with the real Trainer


def test_real_trainer_logs_every_epoch(real_trainer: Callable[..., Any], loaders: Any, tracking_uri: str) -> None:
    from pfdtrain.callbacks import LearningRateMonitor, MLflowLogger

    logger = MLflowLogger(tracking_uri=tracking_uri)
    history = real_trainer([LearningRateMonitor(), logger], max_epochs=2).fit(*loaders)
    run = MlflowClient(tracking_uri).get_run(logger.run_id)
    assert run.info.status == "FINISHED"
    expected = {k: history[k] for k in history if k != "epoch"}
    expected["lr-SGD"] = [0.05, 0.05]
    assert set(run.data.metrics) == set(expected)
    for key, values in expected.items():
        _assert_logged_per_epoch(tracking_uri, run.info.run_id, key, values)
