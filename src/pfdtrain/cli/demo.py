"""The main job of README command 1: a short training run on generated vibration signals."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table
from torch.utils.data import DataLoader, random_split

from pfdtrain.data.synthetic import FAULT_CLASSES, make_vibration_dataset
from pfdtrain.models.cnn1d import SmallCNN1D
from pfdtrain.seed import seed_everything
from pfdtrain.trainer.trainer import Trainer


def run_demo(workdir: Path, epochs: int = 5, samples_per_class: int = 48, seed: int = 0, progress: bool = True,
             console: Console | None = None) -> Path:
    console = console or Console()
    started = time.monotonic()
    seed_everything(seed)
    data = make_vibration_dataset(samples_per_class=samples_per_class, seed=seed)
    n_val = max(len(FAULT_CLASSES), len(data) // 5)
    train_set, val_set = random_split(data, [len(data) - n_val, n_val], generator=torch.Generator().manual_seed(seed))
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(seed))
    val_loader = DataLoader(val_set, batch_size=64)
    console.print(
        f"[bold]pfdtrain demo[/]: {len(train_set)} training / {len(val_set)} validation signals, "
        f"{len(FAULT_CLASSES)} fault classes, 2048 samples at 20,480 Hz"
    )
    model = SmallCNN1D(num_classes=len(FAULT_CLASSES))
    trainer = Trainer(
        model,
        lambda params: torch.optim.AdamW(params, lr=3e-3, weight_decay=1e-4),
        scheduler=lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs),
        max_epochs=epochs,
        device="cpu",
        default_root_dir=workdir,
        enable_progress_bar=progress,
    )
    history = trainer.fit(train_loader, val_loader)
    path = trainer.save_checkpoint(Path(workdir) / "checkpoints" / "demo-last.pt")

    table = Table(title="Metrics per epoch")
    for column in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        table.add_column(column, justify="right")
    for i in range(history.num_epochs):
        table.add_row(
            str(history["epoch"][i] + 1),
            f"{history['train_loss'][i]:.4f}", f"{history['train_acc'][i]:.2%}",
            f"{history['val_loss'][i]:.4f}", f"{history['val_acc'][i]:.2%}",
            f"{history['lr'][i]:.2e}",
        )
    console.print(table)
    console.print(f"Checkpoint written to: [bold]{path}[/] ({time.monotonic() - started:.1f}s)")
    return Path(path)
