import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from pfdtrain import Trainer
from pfdtrain.errors import ConfigurationError
from pfdtrain.physics import FrequencyConsistencyLoss
from pfdtrain.tasks import LambdaSchedule, PhysicsInformedTask


@pytest.mark.parametrize(("kind", "expected"), [
    # legacy-api.md 4.6, train(4) with lambda 0.5 (values written out there)
    ("constant", [0.5, 0.5, 0.5, 0.5]),
    ("linear", [0.0, 0.125, 0.25, 0.375]),
    ("exponential", [0.0, 0.356748, 0.458958, 0.488241]),
    ("step", [0.0, 0.0, 0.25, 0.5]),
])
def test_lambda_schedules(kind, expected):
    schedule = LambdaSchedule(kind, 0.5)
    assert [schedule.value(e, 4) for e in range(4)] == pytest.approx(expected, abs=1e-6)


def test_unknown_schedule_and_missing_epoch_count():
    with pytest.raises(ConfigurationError, match="constant"):
        LambdaSchedule("cosine")
    with pytest.raises(ConfigurationError, match="max_epochs"):
        LambdaSchedule("linear").value(0, None)


class MetaData(Dataset):
    def __init__(self, n=24, length=256):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 1, length, generator=g)
        self.y = torch.randint(0, 8, (n,), generator=g)
        self.rpm = 3000 + 1200 * torch.rand(n, generator=g)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i], {"rpm": self.rpm[i], "load": torch.tensor(400.0), "sensor_id": i}


class MetaNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 5, padding=2)
        self.fc = nn.Linear(4, 11)
        self.rpm_scale = nn.Parameter(torch.tensor(0.1))
        self.seen_meta = []

    def forward(self, x, metadata=None):
        self.seen_meta.append(None if metadata is None else sorted(metadata))
        logits = self.fc(torch.relu(self.conv(x)).mean(-1))
        if metadata is not None:
            logits = logits + self.rpm_scale * metadata["rpm"].reshape(-1, 1) / 3600.0
        return logits


def _fit(schedule, losses, epochs=4):
    torch.manual_seed(0)
    model = MetaNet()
    task = PhysicsInformedTask(losses, schedule=schedule)
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-2), task=task, max_epochs=epochs,
                      enable_progress_bar=False)
    trainer.fit(DataLoader(MetaData(), batch_size=8), DataLoader(MetaData(8), batch_size=8))
    return trainer, model


def test_loss_is_data_plus_scheduled_lambda_times_weighted_physics_and_components_are_logged():
    energy = lambda signal, logits, meta: logits.pow(2).mean()  # noqa: E731  (differentiable)
    trainer, model = _fit(LambdaSchedule("linear", 0.5), {"freq": (FrequencyConsistencyLoss(), 2.0), "energy": energy})
    h = trainer.history
    assert h["train_lambda"] == pytest.approx([0.0, 0.125, 0.25, 0.375])
    assert h["train_physics_loss"][0] == 0.0 and h["train_physics/freq"][0] is None  # not computed at lambda 0
    for e in (1, 2, 3):
        physics = 2.0 * h["train_physics/freq"][e] + h["train_physics/energy"][e]
        assert h["train_physics_loss"][e] == pytest.approx(physics, rel=1e-5)
        assert h["train_loss"][e] == pytest.approx(h["train_data_loss"][e] + h["train_lambda"][e] * physics, rel=1e-5)
    # metadata filtered to rpm/load and handed to the model's second argument
    assert model.seen_meta[0] == ["load", "rpm"]


def test_physics_gradient_reaches_the_model():
    torch.manual_seed(0)
    model = MetaNet()
    task = PhysicsInformedTask(
        {"freq": FrequencyConsistencyLoss()}, schedule=1.0, criterion=lambda logits, t: logits.sum() * 0
    )
    batch = MetaData(4)[0]
    x = MetaData(4).x[:4]
    y = MetaData(4).y[:4]
    meta = {"rpm": MetaData(4).rpm[:4]}
    task.pass_metadata_to_model = True
    out = task.training_step(model, (x, y, meta), trainer=None)
    out.loss.backward()
    assert model.fc.weight.grad is not None and model.fc.weight.grad.abs().sum() > 0
    assert batch is not None


def test_rpm_tensor_as_third_item():
    task = PhysicsInformedTask({"freq": FrequencyConsistencyLoss()})
    assert set(task.metadata((torch.tensor([3600.0]),))) == {"rpm"}
