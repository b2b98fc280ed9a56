import importlib.util
import sys
import types

import pytest

from pfdtrain.errors import MissingExtraError

EPOCHS = [{"train_loss": 0.5, "val_loss": 0.4}, {"train_loss": 0.25, "val_loss": 0.3}]


def _fake_mlflow(active=None):
    calls = []
    module = types.ModuleType("mlflow")
    module.calls = calls

    def run(run_id):
        return types.SimpleNamespace(info=types.SimpleNamespace(run_id=run_id))

    module.active_run = lambda: active
    module.set_tracking_uri = lambda uri: calls.append(("set_tracking_uri", uri))
    module.set_experiment = lambda name: calls.append(("set_experiment", name))

    def start_run(run_id=None, run_name=None):
        calls.append(("start_run", run_id, run_name))
        return run(run_id or "new-run")

    module.start_run = start_run
    module.log_metrics = lambda metrics, step=None: calls.append(("log_metrics", dict(metrics), step))
    module.end_run = lambda status="FINISHED": calls.append(("end_run", status))
    module.make_run = run
    return module


@pytest.fixture
def mlflow(monkeypatch):
    module = _fake_mlflow()
    monkeypatch.setitem(sys.modules, "mlflow", module)
    return module


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is not None, reason="mlflow is installed")
def test_missing_extra_for_real():
    from pfdtrain.callbacks import MLflowLogger

    with pytest.raises(MissingExtraError, match=r"pip install 'pfdtrain\[mlflow\]'"):
        MLflowLogger()


def test_missing_extra_when_the_import_fails(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    from pfdtrain.callbacks import MLflowLogger

    with pytest.raises(MissingExtraError, match=r"pfdtrain\[mlflow\]"):
        MLflowLogger()


def test_run_lifecycle_and_metrics(make_trainer, mlflow):
    from pfdtrain.callbacks import MLflowLogger

    logger = MLflowLogger(experiment_name="exp", run_name="r1", tracking_uri="file:///tmp/mlruns")
    make_trainer().fit([logger], EPOCHS)
    assert mlflow.calls == [
        ("set_tracking_uri", "file:///tmp/mlruns"),
        ("set_experiment", "exp"),
        ("start_run", None, "r1"),
        ("log_metrics", {"train_loss": 0.5, "val_loss": 0.4}, 0),
        ("log_metrics", {"train_loss": 0.25, "val_loss": 0.3}, 1),
        ("end_run", "FINISHED"),
    ]
    assert logger.state_dict() == {"run_id": "new-run"}


@pytest.mark.parametrize("exception, status", [(RuntimeError("x"), "FAILED"), (KeyboardInterrupt(), "KILLED")])
def test_exception_ends_the_run(make_trainer, mlflow, exception, status):
    from pfdtrain.callbacks import MLflowLogger

    logger = MLflowLogger()
    trainer = make_trainer()
    logger.on_fit_start(trainer)
    logger.on_exception(trainer, exception)
    logger.on_fit_end(trainer)  # nothing left to end
    assert mlflow.calls[-1] == ("end_run", status)
    assert [c[0] for c in mlflow.calls].count("end_run") == 1


def test_resume_continues_the_same_run(make_trainer, mlflow):
    from pfdtrain.callbacks import MLflowLogger

    logger = MLflowLogger()
    logger.load_state_dict({"run_id": "abc123"})
    make_trainer(current_epoch=1).fit([logger], EPOCHS[1:])
    assert ("start_run", "abc123", None) in mlflow.calls
    assert ("log_metrics", {"train_loss": 0.25, "val_loss": 0.3}, 1) in mlflow.calls


def test_an_active_run_is_used_and_left_open(make_trainer, monkeypatch):
    module = _fake_mlflow(active=_fake_mlflow().make_run("users-run"))
    monkeypatch.setitem(sys.modules, "mlflow", module)
    from pfdtrain.callbacks import MLflowLogger

    logger = MLflowLogger()
    make_trainer().fit([logger], EPOCHS[:1])
    assert [c[0] for c in module.calls] == ["log_metrics"]
    assert logger.run_id == "users-run"


def test_other_processes_do_not_log(make_trainer, mlflow):
    from pfdtrain.callbacks import MLflowLogger

    make_trainer(is_global_zero=False).fit([MLflowLogger()], EPOCHS)
    assert mlflow.calls == []


# ---------------------------------------------------------------------- with the real Trainer


def test_real_trainer_logs_every_epoch(real_trainer, loaders, mlflow):
    from pfdtrain.callbacks import LearningRateMonitor, MLflowLogger

    trainer = real_trainer([LearningRateMonitor(), MLflowLogger()], max_epochs=2)
    history = trainer.fit(*loaders)
    logged = [c for c in mlflow.calls if c[0] == "log_metrics"]
    assert [c[2] for c in logged] == [0, 1]
    for epoch, (_, metrics, _) in enumerate(logged):
        expected = {k: history[k][epoch] for k in history if k != "epoch"}
        expected["lr-SGD"] = 0.05
        assert metrics == expected
    assert mlflow.calls[-1] == ("end_run", "FINISHED")
