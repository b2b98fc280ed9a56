"""Epoch statistics of the trainer adapters to the last bit, as the real LSTM-PFD scripts see them.

``scripts/train_cnn.py`` saves ``val_acc`` in its checkpoints, ``experiments/cnn_experiment.py``
writes the history to JSON: they keep every bit of legacy's ``100. * correct / total`` and of its
loss sum ``loss.item() * accumulation * batch`` (``loss`` already divided by the accumulation, in
float32). Expected values below are those formulas (``shared/legacy-api.md`` sections 3.1-3.2),
computed here from counts the inputs fix; the predictions have clear margins.
"""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from pfdtrain.compat._exact_accuracy import AccuracyCounts, percent
from pfdtrain.compat.cnn_trainer import CNNTrainer
from pfdtrain.compat.knowledge_distillation import DistillationLoss, DistillationTrainer
from pfdtrain.compat.pinn_trainer import PINNTrainer
from pfdtrain.compat.progressive_resizing import ProgressiveResizingTrainer
from pfdtrain.compat.trainer import Trainer


class OneHotEcho(nn.Module):
    """Logits = the one-hot input scaled by 10 (prediction = the input's hot index), plus a
    weight that never changes the argmax (training must have parameters to step)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        return 10.0 * x + 0.0 * self.w


def _data(n: int, correct: int, num_classes: int = 4):
    """``n`` samples of which exactly ``correct`` (the first ones) are predicted right."""
    targets = torch.arange(n) % num_classes
    predicted = targets.clone()
    predicted[correct:] = (targets[correct:] + 1) % num_classes
    return torch.nn.functional.one_hot(predicted, num_classes).float(), targets


def _loader(n: int, correct: int, batch_size: int) -> DataLoader:
    return DataLoader(TensorDataset(*_data(n, correct)), batch_size=batch_size)


def _legacy_percent(correct: int, total: int) -> float:
    return 100.0 * correct / total


def test_inputs_expose_the_last_bit():
    # 100 * (5 / 12) and (100 * 5) / 12 are different doubles: the adapters must use the second
    assert _legacy_percent(5, 12) != 100.0 * (5 / 12)


@pytest.mark.parametrize(("n", "correct", "batch_size"), [(12, 5, 5), (24, 10, 8), (7, 3, 3)])
def test_cnn_trainer_epoch_accuracies_are_legacy_exact(n, correct, batch_size):
    model = OneHotEcho()
    trainer = CNNTrainer(model, _loader(n, correct, batch_size), _loader(n, correct, batch_size),
                         optimizer=torch.optim.SGD(model.parameters(), lr=0.0), device="cpu", mixed_precision=False)
    assert trainer.train_epoch()["accuracy"] == _legacy_percent(correct, n)
    assert trainer.validate_epoch()["accuracy"] == _legacy_percent(correct, n)
    history = trainer.fit(2, save_best=False, verbose=False)
    assert history["train_acc"] == [_legacy_percent(correct, n)] * 2
    assert history["val_acc"] == [_legacy_percent(correct, n)] * 2


def test_trainer_and_pinn_histories_are_legacy_exact():
    model = OneHotEcho()
    trainer = Trainer(model, _loader(12, 5, 5), _loader(12, 7, 5),
                      optimizer=torch.optim.SGD(model.parameters(), lr=0.0), device="cpu")
    trainer.fit(2)
    assert trainer.get_history()["train_acc"] == [_legacy_percent(5, 12)] * 2
    assert trainer.get_history()["val_acc"] == [_legacy_percent(7, 12)] * 2

    model = OneHotEcho()
    pinn = PINNTrainer(model, _loader(12, 5, 5), _loader(12, 7, 5),
                       optimizer=torch.optim.SGD(model.parameters(), lr=0.0), device="cpu",
                       adaptive_lambda=False, lambda_physics=0.0)
    history = pinn.train(2)
    assert history["train_acc"] == [_legacy_percent(5, 12)] * 2
    assert history["val_acc"] == [_legacy_percent(7, 12)] * 2


def test_batch_mean_trainers_accuracy_is_legacy_exact():
    model = OneHotEcho()
    progressive = ProgressiveResizingTrainer(model, torch.optim.SGD(model.parameters(), lr=0.0), nn.CrossEntropyLoss())
    assert progressive.train_epoch(_loader(12, 5, 5), 0)["train_accuracy"] == _legacy_percent(5, 12)
    assert progressive.evaluate(_loader(12, 7, 5))["val_accuracy"] == _legacy_percent(7, 12)

    student = OneHotEcho()
    distill = DistillationTrainer(OneHotEcho(), student, DistillationLoss(),
                                  torch.optim.SGD(student.parameters(), lr=0.0))
    assert distill.evaluate(_loader(12, 7, 5))["val_accuracy"] == _legacy_percent(7, 12)


class ConstantLoss(nn.Module):
    """A float32 loss of exactly ``value`` whatever the batch (with a gradient path)."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return outputs.sum() * 0.0 + self.value


def test_reported_training_loss_keeps_the_float32_division_by_the_accumulation():
    k, value = 3, 1.0
    # legacy: loss = criterion / k (float32); sum += loss.item() * k * batch; mean = sum / total
    per_batch = float(torch.tensor(value, dtype=torch.float32) / k) * k
    assert per_batch != value  # 1/3 rounds in float32: the test can tell the two apart
    model = OneHotEcho()
    for trainer in (
        CNNTrainer(model, _loader(12, 5, 4), criterion=ConstantLoss(value), device="cpu", mixed_precision=False,
                   optimizer=torch.optim.SGD(model.parameters(), lr=0.0), gradient_accumulation_steps=k),
        Trainer(model, _loader(12, 5, 4), criterion=ConstantLoss(value), device="cpu",
                optimizer=torch.optim.SGD(model.parameters(), lr=0.0), gradient_accumulation_steps=k),
    ):
        out = trainer.train_epoch()
        loss = out["loss"] if "loss" in out else out["train_loss"]
        assert loss == (per_batch * 4 + per_batch * 4 + per_batch * 4) / 12


def test_percent_without_counts_and_on_an_empty_epoch():
    assert percent({"train_acc": 0.5}, "train_acc") == 50.0
    assert percent({"train_acc": 5 / 12, "train_acc@counts": (5, 12)}, "train_acc") == _legacy_percent(5, 12)
    with pytest.raises(ZeroDivisionError, match="float division by zero"):
        percent({}, "train_acc")


def test_counts_recover_integer_hits_from_the_epoch_mean():
    from pfdtrain.tasks.base import StepOutput
    from pfdtrain.trainer.accumulator import MetricAccumulator

    batches = ((15, 22), (13, 23), (7, 25))  # (correct, size): fraction * size is not the integer again
    assert all((c / s) * s != c for c, s in batches)
    counts, means = AccuracyCounts(), MetricAccumulator()
    for correct, size in batches:
        fraction = torch.tensor(correct / size, dtype=torch.float32)  # what the tasks report
        out = StepOutput(loss=torch.zeros(()), batch_size=size, metrics={"acc": fraction})
        counts.add("val", out)
        means.update(out.metrics, size)
    epoch = {f"val_{k}": v for k, v in means.compute().items()}
    assert counts.totals(epoch, "val") == {"val_acc@counts": (35, 70)}
    counts.reset("val")
    assert counts.totals(epoch, "val") == {}
