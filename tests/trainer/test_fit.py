import json
import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from pfd_testing import make_data, make_loader, make_model
from pfdtrain import ClassificationTask, History, Trainer


def _trainer(model, **kw):
    kw.setdefault("enable_progress_bar", False)
    return Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), **kw)


def test_fit_returns_history_with_every_metric_and_lr_per_epoch(model, loader):
    history = _trainer(model, max_epochs=3).fit(loader, make_loader(seed=1))
    assert isinstance(history, History)
    assert set(history) == {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"}
    assert history["epoch"] == [0, 1, 2]
    assert history["lr"] == [0.1, 0.1, 0.1]
    assert all(0.0 <= a <= 1.0 for a in history["train_acc"] + history["val_acc"])  # fractions


def test_epoch_means_are_sample_weighted_and_match_a_hand_computation():
    # 10 samples in batches of 4, 4, 2: the epoch loss is sum(loss_b * B_b) / 10.
    x, y = make_data(10)
    model = make_model(dropout=0.0)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    expected_loss, expected_correct = 0.0, 0
    with torch.no_grad():
        for xb, yb in loader:
            out = model(xb)
            expected_loss += nn.functional.cross_entropy(out, yb).item() * len(yb)
            expected_correct += (out.argmax(1) == yb).sum().item()
    metrics = _trainer(model).validate(loader)
    assert metrics["val_loss"] == pytest.approx(expected_loss / 10, rel=1e-6)
    assert metrics["val_acc"] == pytest.approx(expected_correct / 10)


def test_training_matches_a_plain_loop_bit_for_bit():
    x, y = make_data(32)
    plain, ours = make_model(dropout=0.0), make_model(dropout=0.0)
    opt = torch.optim.SGD(plain.parameters(), lr=0.1)
    for _ in range(2):
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=8):
            opt.zero_grad()
            nn.functional.cross_entropy(plain(xb), yb).backward()
            opt.step()
    _trainer(ours, max_epochs=2).fit(DataLoader(TensorDataset(x, y), batch_size=8))
    for a, b in zip(plain.parameters(), ours.parameters(), strict=True):
        assert torch.equal(a, b)


def test_batches_with_extra_items_and_dict_batches_are_accepted(model):
    x, y = make_data(16)
    rpm = torch.full((16,), 3600.0)
    triples = DataLoader(TensorDataset(x, y, rpm), batch_size=4)
    assert _trainer(model, max_epochs=1).fit(triples)["train_loss"][0] > 0

    class DictData(Dataset):
        def __len__(self):
            return 16

        def __getitem__(self, i):
            return {"signal": x[i], "label": y[i], "rpm": rpm[i]}

    assert _trainer(make_model(), max_epochs=1).fit(DataLoader(DictData(), batch_size=4))["train_acc"][0] >= 0


def test_custom_criterion_is_used(model, loader):
    calls = []

    def criterion(logits, targets):
        calls.append(logits.shape)
        return nn.functional.cross_entropy(logits, targets)

    _trainer(model, max_epochs=1, task=ClassificationTask(criterion=criterion)).fit(loader)
    assert len(calls) == len(loader)


def test_validate_test_and_predict(model, loader):
    trainer = _trainer(model)
    assert set(trainer.validate(loader)) == {"val_loss", "val_acc"}
    assert set(trainer.test(loader)) == {"test_loss", "test_acc"}
    preds = trainer.predict(loader)
    assert preds.shape == (64, 3)
    x, _ = make_data(64)
    model.eval()
    with torch.no_grad():
        assert torch.allclose(preds, model(x), atol=1e-6)


def test_max_steps_counts_optimizer_steps_and_stops_mid_epoch(model, loader):
    trainer = _trainer(model, max_steps=3)
    trainer.fit(loader)
    assert trainer.global_step == 3
    assert trainer.history.num_epochs == 1


def test_plateau_scheduler_is_stepped_with_the_monitored_metric(model, loader):
    seen = []

    class Spy(torch.optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    trainer = _trainer(model, max_epochs=2, scheduler=lambda opt: Spy(opt), scheduler_monitor="val_acc")
    history = trainer.fit(loader, make_loader(seed=1))
    assert seen == history["val_acc"]


def test_plateau_scheduler_without_validation_falls_back_to_train_loss(model, loader):
    seen = []

    class Spy(torch.optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    history = _trainer(model, max_epochs=2, scheduler=lambda opt: Spy(opt)).fit(loader)
    assert seen == history["train_loss"]


def test_plateau_scheduler_with_a_missing_monitor_warns_and_does_not_crash(model, loader):
    sched = lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt)  # noqa: E731
    with pytest.warns(UserWarning, match="val_acc"):
        _trainer(model, max_epochs=2, scheduler=sched, scheduler_monitor="val_acc").fit(loader)


def test_step_interval_scheduler_steps_once_per_optimizer_step(model, loader):
    trainer = _trainer(
        model, max_epochs=2, scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5),
        scheduler_interval="step",
    )
    history = trainer.fit(loader)
    # the lr logged for an epoch is the one in use at its start; 8 steps per epoch halve it 8 times
    assert history["lr"] == [0.1, 0.1 * 0.5**8]
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**16)


def test_history_round_trips_through_json(tmp_path, model, loader):
    history = _trainer(model, max_epochs=2).fit(loader)
    text = history.to_json(tmp_path / "h.json")
    assert json.loads(text)["epoch"] == [0, 1]
    assert History.from_json(tmp_path / "h.json") == history


def test_history_keeps_lists_aligned_when_a_metric_appears_late():
    h = History()
    h.append({"train_loss": 1.0})
    h.append({"train_loss": 0.5, "val_loss": float("nan")})
    assert h["val_loss"] == [None, h["val_loss"][1]] and math.isnan(h["val_loss"][1])
    assert History.from_json(h.to_json()).to_dict()["val_loss"][0] is None


def test_optimizer_factory_and_should_stop(model, loader):
    from pfdtrain.callbacks import Callback

    class StopAfterFirstEpoch(Callback):
        def on_train_epoch_end(self, trainer):
            trainer.should_stop = True

    trainer = Trainer(
        model, lambda params: torch.optim.Adam(params, lr=1e-3), max_epochs=5,
        callbacks=[StopAfterFirstEpoch()], enable_progress_bar=False,
    )
    trainer.fit(loader)
    assert isinstance(trainer.optimizer, torch.optim.Adam)
    assert trainer.current_epoch == 1


def test_seed_makes_runs_repeatable(loader):
    a, b = make_model(), make_model()
    _trainer(a, max_epochs=1, seed=7).fit(make_loader(shuffle=True))
    _trainer(b, max_epochs=1, seed=7).fit(make_loader(shuffle=True))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_device_objects_are_accepted(model):
    assert _trainer(model, device=torch.device("cpu")).device == torch.device("cpu")
