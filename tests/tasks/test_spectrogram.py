"""Spectrogram training with SpecAugment on the batch: a ClassificationTask with a train transform."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from pfdtrain import ClassificationTask, Trainer
from pfdtrain.augment import SpecAugment


class SpecNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        return self.fc(self.conv(x).mean((-1, -2)))


def test_specaugment_masks_training_batches_only_and_leaves_the_global_rng_alone():
    x, y = torch.rand(8, 1, 12, 20) + 1.0, torch.randint(0, 3, (8,))  # no zeros unless masked
    model = SpecNet()
    task = ClassificationTask(train_transform=SpecAugment(time_mask_param=5, freq_mask_param=3, seed=0))
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), task=task, max_epochs=1,
                      enable_progress_bar=False)
    state = torch.get_rng_state()
    own = {"generator": torch.Generator()}  # loaders that do not draw their seed from the global RNG
    data = TensorDataset(x, y)
    trainer.fit(DataLoader(data, batch_size=8, **own), DataLoader(data, batch_size=8, **own))
    assert torch.equal(torch.get_rng_state(), state)
    train_in, val_in = model.inputs
    assert (train_in == 0).any()           # masked
    assert not (val_in == 0).any()         # validation untouched
    assert torch.equal(val_in, x)
