"""CNNTrainer driven by hand (as scripts/train_cnn.py did), live attributes, RNG use and errors."""

import random

import numpy as np
import pytest
import torch

from pfd_testing import make_loader, make_model
from pfdtrain.compat import cnn_trainer as legacy
from pfdtrain.compat.cnn_trainer import CNNTrainer


def _trainer(model=None, **kw):
    model = model or make_model(dropout=0.0)
    kw.setdefault("optimizer", torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    kw.setdefault("device", "cpu")
    kw.setdefault("mixed_precision", False)
    return CNNTrainer(model, make_loader(), kw.pop("val_loader", make_loader(n=16, seed=1)), **kw)


def test_script_driven_epochs_match_fit_exactly():
    """The train_cnn.py pattern: set current_epoch, run the epoch methods, step and record by hand."""
    fit_model, script_model = make_model(dropout=0.0), make_model(dropout=0.0)
    by_fit = _trainer(fit_model)
    by_fit.lr_scheduler = torch.optim.lr_scheduler.StepLR(by_fit.optimizer, step_size=1, gamma=0.5)
    history = by_fit.fit(3, save_best=False, verbose=False)

    script = _trainer(script_model)
    scheduler = torch.optim.lr_scheduler.StepLR(script.optimizer, step_size=1, gamma=0.5)
    script.lr_scheduler = scheduler
    val_a, val_b = script.val_loader, make_loader(n=16, seed=1)
    for epoch in range(3):
        script.current_epoch = epoch
        train = script.train_epoch()
        assert scheduler.last_epoch == epoch  # train_epoch never steps the scheduler
        script.val_loader = val_a if epoch % 2 == 0 else val_b  # same data, swapped object
        val = script.validate_epoch()
        script.lr_scheduler.step()
        script.history["train_loss"].append(train["loss"])
        script.history["train_acc"].append(train["accuracy"])
        script.history["val_loss"].append(val["loss"])
        script.history["val_acc"].append(val["accuracy"])
        script.history["lr"].append(script.get_current_lr())
    assert list(script.history) == list(history)
    for key, values in history.items():
        assert script.history[key] == pytest.approx(values, rel=1e-12)
    for a, b in zip(fit_model.parameters(), script_model.parameters(), strict=False):
        assert torch.equal(a, b)


def test_attributes_are_read_at_every_call():
    trainer = _trainer()
    trainer.train_epoch()
    new_opt = torch.optim.SGD(trainer.model.parameters(), lr=0.0)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.optimizer = new_opt  # lr 0: the next epoch must not move the weights
    trainer.train_epoch()
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=False))
    trainer.val_loader = None
    assert trainer.validate_epoch() == {}


def test_no_global_random_numbers_are_drawn():
    # loaders with their own generator: iterating them draws nothing from the global RNG either
    trainer = _trainer(val_loader=make_loader(n=16, seed=1, generator=torch.Generator()))
    trainer.train_loader = make_loader(generator=torch.Generator())
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    states = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    trainer.fit(2, verbose=False)
    trainer.train_epoch()
    trainer.validate_epoch()
    assert torch.equal(torch.get_rng_state(), states[0])
    assert np.array_equal(np.random.get_state()[1], states[1]) and random.getstate() == states[2]


def test_torch_device_objects_are_accepted():
    trainer = _trainer(device=torch.device("cpu"))
    assert trainer.device == torch.device("cpu")
    assert set(trainer.fit(1, verbose=False)) == {"train_loss", "train_acc", "val_loss", "val_acc", "lr"}


def test_plateau_scheduler_fails_like_legacy():
    trainer = _trainer()
    trainer.lr_scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(trainer.optimizer)
    with pytest.raises(TypeError, match="metrics"):
        trainer.fit(1, verbose=False)


def test_model_left_in_eval_mode_after_validation_and_errors():
    trainer = _trainer()
    trainer.fit(1, verbose=False)
    assert not trainer.model.training
    empty = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(0, 8), torch.zeros(0).long()))
    trainer.train_loader = empty
    with pytest.raises(ZeroDivisionError):
        trainer.train_epoch()
    no_opt = _trainer(optimizer=None)
    no_opt.optimizer = None
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'step'"):
        no_opt.train_epoch()


def test_mixed_precision_default_falls_back_to_cpu_without_cuda(caplog):
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    model = make_model(dropout=0.0)
    trainer = CNNTrainer(model, make_loader(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                         device=torch.device("cuda"))
    assert trainer.device == "cpu" and trainer.mixed_precision is False and trainer.scaler is None
    assert "Mixed precision requested but CUDA not available. Disabling." in caplog.text


@pytest.mark.slow
def test_self_test_runs_on_pfdtrain_alone_and_cleans_up(tmp_path, monkeypatch, capsys, caplog):
    monkeypatch.chdir(tmp_path)
    caplog.set_level("INFO", logger="training.cnn_trainer")
    legacy.test_cnn_trainer()
    out = capsys.readouterr().out
    assert "Trainer created on device: cpu" in out and "✅ All CNN trainer tests passed!" in out
    assert "Starting training for 2 epochs" in caplog.text
    assert list(tmp_path.iterdir()) == []  # ./test_checkpoints removed again
