"""Run under torchrun by test_ddp.py: trains with the DDP plugin on gloo and records what happened."""

import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from pfdtrain import Callback, Trainer
from pfdtrain.plugins import DDP

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pfd_testing import make_data, make_model

out = Path(sys.argv[1])


class IndexData(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i], i


class SeenIndices(Callback):
    def __init__(self):
        self.per_epoch = {}

    def on_train_batch_start(self, trainer, batch, batch_idx):
        self.per_epoch.setdefault(trainer.current_epoch, []).extend(batch[2].tolist())


x, y = make_data(48)
model = make_model(dropout=0.0)
trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.3), plugins=[DDP()], max_epochs=2,
                  enable_progress_bar=False, default_root_dir=out)
trainer.fit(DataLoader(TensorDataset(x, y), batch_size=4), DataLoader(TensorDataset(x, y), batch_size=4))
trainer.save_checkpoint(out / "ddp.pt")
rank = trainer.distributed.rank

seen = SeenIndices()
shuffled = Trainer(make_model(dropout=0.0), lambda p: torch.optim.SGD(p, lr=0.1), plugins=[DDP()], max_epochs=2,
                   callbacks=[seen], enable_progress_bar=False)
shuffled.fit(DataLoader(IndexData(x, y), batch_size=4, shuffle=True))

torch.save({"params": {k: v.detach().clone() for k, v in trainer.unwrapped_model.state_dict().items()},
            "history": trainer.history.to_dict(), "seen": seen.per_epoch, "is_global_zero": trainer.is_global_zero},
           out / f"rank{rank}.result")
