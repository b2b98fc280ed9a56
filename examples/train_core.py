"""Train a small 1-D CNN on generated vibration signals with the core API, then resume it.

Run: ``python examples/train_core.py [workdir]``. Shows an optimizer factory, a plateau scheduler
with its monitored metric, early stopping, best-k checkpoints, and an exact resume.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader, random_split

from pfdtrain import Trainer, seed_everything
from pfdtrain.callbacks import EarlyStopping, ModelCheckpoint
from pfdtrain.data import make_vibration_dataset
from pfdtrain.models import SmallCNN1D


def main(workdir: Path, epochs: int = 4) -> dict:
    seed_everything(0)
    data = make_vibration_dataset(samples_per_class=16, length=1024)
    train, val = random_split(data, [len(data) - 44, 44], generator=torch.Generator().manual_seed(0))

    def make_trainer(max_epochs: int) -> Trainer:
        return Trainer(
            SmallCNN1D(num_classes=11),
            lambda params: torch.optim.AdamW(params, lr=3e-3),
            scheduler=lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1),
            scheduler_monitor="val_loss",
            callbacks=[EarlyStopping(monitor="val_loss", patience=3),
                       ModelCheckpoint(monitor="val_acc", mode="max", save_top_k=1, save_last=True)],
            max_epochs=max_epochs,
            default_root_dir=workdir,
            enable_progress_bar=False,
            device="cpu",
        )

    loaders = (DataLoader(train, batch_size=32, shuffle=True), DataLoader(val, batch_size=64))
    first = make_trainer(epochs // 2)
    first.fit(*loaders)
    last = workdir / "checkpoints" / "last.pt"
    resumed = make_trainer(epochs)
    history = resumed.fit(*loaders, ckpt_path=last)
    print(f"resumed from {last}; epochs trained: {history.num_epochs}; final val_acc={history['val_acc'][-1]:.3f}")
    return history.to_dict()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("pfdtrain_runs/example"))
