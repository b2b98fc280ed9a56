"""Train the speed-aware CNN with the legacy PINNTrainer and old-style callbacks.

    python train_pinn.py --epochs 8 --checkpoint checkpoints/pinn/pinn_best.pth
"""

import argparse

import torch

from bearing.data import NUM_CLASSES, SAMPLE_RATE, get_loaders
from bearing.models import SpeedAwareCNN1D
from training.callbacks import EarlyStopping, ModelCheckpoint
from training.pinn_trainer import PINNTrainer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--checkpoint", default="checkpoints/pinn/pinn_best.pth")
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--min-delta", type=float, default=0.0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    train_loader, val_loader = get_loaders(batch_size=16, with_metadata=True)
    model = SpeedAwareCNN1D(num_classes=NUM_CLASSES)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    stopper = EarlyStopping(monitor="val_loss", patience=args.patience, min_delta=args.min_delta)
    trainer = PINNTrainer(
        model=model,
        train_loader=train_loader,
        val_loader=val_loader,
        optimizer=optimizer,
        device="cpu",
        callbacks=[ModelCheckpoint(args.checkpoint, monitor="val_acc", mode="max"), stopper],
        lambda_physics=0.3,
        lambda_schedule="linear",
        sample_rate=SAMPLE_RATE,
    )
    try:
        history = trainer.train(num_epochs=args.epochs)
    except StopIteration:
        print(f"Stopped early after epoch {stopper.stopped_epoch + 1}")
        history = trainer.get_history()
    return trainer, history


if __name__ == "__main__":
    main()
