"""Legacy ``training.progressive_resizing``: ``ResizableSignalDataset``, ``resize_signal`` and
``ProgressiveResizingTrainer``.

Each stage of ``train_progressive`` is one core :meth:`pfdtrain.Trainer.fit` over loaders of
resized signals (resized along dim 1, as legacy did). Kept legacy behaviour
(``docs/compatibility.md``): the training loader shuffles with the global torch RNG (no
generator) and defaults to 4 workers; losses are averages of batch means; the scheduler steps once
per epoch across stages; no clipping, accumulation or AMP; epochs are numbered per stage.
For new code: ``pfdtrain.callbacks.ProgressiveResizing`` resizes on the device within one fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from pfdtrain.compat import _bridge as B
from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, Dict, List, Optional, Tuple, get_logger

__all__ = [
    # module-level names of the legacy module (served as training.progressive_resizing.<name>)
    "NUM_CLASSES",
    "SIGNAL_LENGTH",
    "DataLoader",
    "Dataset",
    "Dict",
    "List",
    "Optional",
    "ProgressiveResizingTrainer",
    "ResizableSignalDataset",
    "Tuple",
    "logger",
    "nn",
    "np",
    "resize_signal",
    "torch",
]

logger = get_logger("training.progressive_resizing")

def resize_signal(signal: torch.Tensor, target_length: int, method: str = "interpolate") -> torch.Tensor:
    """Resize ``[C, T]`` (or ``[T]``, treated as one channel) along dim 1, as legacy's
    ``ResizableSignalDataset.resize_signal`` did: equal length unchanged (whatever ``method``);
    ``interpolate`` is torch's ``interpolate(mode='linear', align_corners=False)``; ``crop`` a
    centre crop or zero padding at the end; ``subsample`` a stride, or tiling when shorter. Inputs
    and lengths legacy could not handle fail with torch's errors, as they did. New code:
    :func:`pfdtrain.augment.resize_signal` (resizes the last axis of any shape, checks its input)."""
    squeeze = signal.dim() == 1
    if squeeze:
        signal = signal.unsqueeze(0)
    length = signal.shape[1]
    if length == target_length:
        result = signal
    elif method == "interpolate":
        result = torch.nn.functional.interpolate(signal.unsqueeze(0), size=target_length, mode="linear",
                                                 align_corners=False).squeeze(0)
    elif method == "crop":
        if length > target_length:
            start = (length - target_length) // 2
            result = signal[:, start:start + target_length]
        else:
            result = torch.nn.functional.pad(signal, (0, target_length - length))
    elif method == "subsample":
        if length > target_length:
            result = signal[:, ::length // target_length][:, :target_length]
        else:
            result = signal.repeat(1, target_length // length + 1)[:, :target_length]
    else:
        raise ValueError(f"Unknown resize method: {method}")
    return result.squeeze(0) if squeeze else result


class ResizableSignalDataset(Dataset):
    """``(resize_signal(signal, target_length), label)`` for each item of ``base_dataset``."""

    def __init__(self, base_dataset: Any, target_length: int, resize_method: str = "interpolate") -> None:
        self.base_dataset = base_dataset
        self.target_length = target_length
        self.resize_method = resize_method

    def __len__(self) -> Any:
        return len(self.base_dataset)

    def __getitem__(self, idx: int) -> Any:
        signal, label = self.base_dataset[idx]
        if not isinstance(signal, torch.Tensor):
            signal = torch.tensor(signal, dtype=torch.float32)
        return self.resize_signal(signal, self.target_length), label

    def resize_signal(self, signal: torch.Tensor, target_length: int) -> Any:
        return resize_signal(signal, target_length, self.resize_method)


class ProgressiveResizingTrainer:
    """Train on short signals first, then longer ones: ``schedule`` is ``[(length, epochs), ...]``."""

    def __init__(self, model: Any, optimizer: Any, criterion: Any, device: Any = "cpu", schedule: Any = None) -> None:
        self.model = model.to(device)
        self.optimizer = optimizer
        self.criterion = criterion
        self.device = device
        self.schedule = [(25600, 30), (51200, 20), (102400, 50)] if schedule is None else schedule

    def train_epoch(self, train_loader: Any, epoch: int) -> Any:
        metrics = self._core().run_training_epoch(train_loader)
        return B.batch_mean_metrics(metrics, "train")

    def evaluate(self, val_loader: Any) -> Any:
        metrics = self._core().evaluate(val_loader)
        self.model.eval()
        return B.batch_mean_metrics(metrics, "val")

    def train_progressive(self, base_train_dataset: Any, base_val_dataset: Any, batch_size: int = 32,
                          num_workers: int = 4, scheduler: Any = None) -> Any:
        history: dict[str, list[Any]] = {"stage_lengths": [], "train_loss": [], "train_accuracy": [], "val_loss": [],
                   "val_accuracy": []}
        for stage, (length, epochs) in enumerate(self.schedule):
            print("\n" + "=" * 60)
            print(f"Stage {stage + 1}: Signal length = {length}, Epochs = {epochs}")
            print("=" * 60)
            train_loader = DataLoader(ResizableSignalDataset(base_train_dataset, length, "interpolate"),
                                      batch_size=batch_size, shuffle=True, num_workers=num_workers)
            val_loader = DataLoader(ResizableSignalDataset(base_val_dataset, length, "interpolate"),
                                    batch_size=batch_size, shuffle=False, num_workers=num_workers)

            def end(core: Any, epoch: int, length: Any = length, epochs: int = epochs) -> None:
                row = B.last_row(core)
                train, val = B.batch_mean_metrics(row, "train"), B.batch_mean_metrics(row, "val")
                self.model.eval()  # legacy evaluate() left the model in eval mode
                if scheduler is not None:
                    scheduler.step()
                history["stage_lengths"].append(length)
                for key, value in {**train, **val}.items():
                    history[key].append(value)
                print(f"Epoch {epoch + 1}/{epochs} (Length={length}): "
                      f"Train Loss={train['train_loss']:.4f}, Train Acc={train['train_accuracy']:.2f}%, "
                      f"Val Loss={val['val_loss']:.4f}, Val Acc={val['val_accuracy']:.2f}%")

            self._core(epochs, [B.EpochBridge(None, end)]).fit(train_loader, val_loader)
        return history

    def _core(self, max_epochs: int = 0, callbacks: Any = ()) -> Any:
        return B.plain_step_core(self.model, self.optimizer, B.BatchMeanTask(self), self.device,
                                 max_epochs=max_epochs, callbacks=callbacks)


#: The example legacy printed for ``python -m training.progressive_resizing`` (its text, verbatim).
_USAGE = "\n".join([
    '',
    '    # Create model',
    '    model = create_resnet18_1d(num_classes=NUM_CLASSES)',
    '',
    '    # Setup training',
    '    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)',
    '    criterion = nn.CrossEntropyLoss()',
    '',
    '    # Progressive training schedule',
    '    schedule = [',
    '        (25600, 30),   # Stage 1: Short signals',
    '        (51200, 20),   # Stage 2: Medium signals',
    '        (102400, 50),  # Stage 3: Full signals',
    '    ]',
    '',
    '    trainer = ProgressiveResizingTrainer(',
    '        model=model,',
    '        optimizer=optimizer,',
    '        criterion=criterion,',
    "        device='cuda',",
    '        schedule=schedule',
    '    )',
    '',
    '    # Train with progressive resizing',
    '    history = trainer.train_progressive(',
    '        base_train_dataset=train_dataset,',
    '        base_val_dataset=val_dataset,',
    '        batch_size=32',
    '    )',
    '',
    '    print(f"Final validation accuracy: {history[\'val_accuracy\'][-1]:.2f}%")',
    '    ',
])


def _legacy_main() -> None:
    """``python -m training.progressive_resizing``: legacy printed a usage example."""
    print('Progressive Resizing Training Framework')
    print("\nExample usage:")
    print(_USAGE)
