import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from pfdtrain import Callback, Trainer
from pfdtrain.callbacks.progressive_resizing import ProgressiveResizing
from pfdtrain.errors import ConfigurationError


class LengthSpy(Callback):
    def __init__(self):
        self.lengths = {}

    def on_train_batch_end(self, trainer, outputs, batch, batch_idx):
        self.lengths.setdefault(trainer.current_epoch, set()).add(trainer.task.train_transform.length)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)
        self.lengths = []

    def forward(self, x):
        self.lengths.append(x.shape[-1])
        return self.fc(self.conv(x).mean(-1))


def test_signal_length_follows_the_schedule_in_training_and_validation():
    x, y = torch.randn(16, 1, 64), torch.randint(0, 3, (16,))
    model = Net()
    spy = LengthSpy()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), max_epochs=4,
                      callbacks=[ProgressiveResizing([(16, 1), (32, 2)]), spy], enable_progress_bar=False)
    trainer.fit(DataLoader(TensorDataset(x, y), batch_size=8), DataLoader(TensorDataset(x, y), batch_size=16))
    assert spy.lengths == {0: {16}, 1: {32}, 2: {32}, 3: {32}}  # past the schedule: its last length
    # per epoch: 2 training batches then 1 validation batch
    assert model.lengths == [16, 16, 16] + [32, 32, 32] * 3


@pytest.mark.parametrize("schedule", [[], [(0, 1)], [(16, 0)]])
def test_bad_schedules(schedule):
    with pytest.raises(ConfigurationError, match="schedule"):
        ProgressiveResizing(schedule)
