"""Train the 1-D CNN with the legacy CNNTrainer; the best model goes to <checkpoint-dir>/best_model.pth.

    python train_cnn.py --epochs 6 --checkpoint-dir checkpoints/cnn
"""

import argparse
import logging

import torch

from bearing.data import NUM_CLASSES, get_loaders
from bearing.models import SmallCNN1D
from training.cnn_losses import LabelSmoothingCrossEntropy
from training.cnn_trainer import CNNTrainer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--checkpoint-dir", default="checkpoints/cnn")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.manual_seed(args.seed)
    train_loader, val_loader = get_loaders(args.batch_size)
    model = SmallCNN1D(num_classes=NUM_CLASSES)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    trainer = CNNTrainer(
        model=model,
        train_loader=train_loader,
        val_loader=val_loader,
        optimizer=optimizer,
        criterion=LabelSmoothingCrossEntropy(smoothing=0.1),
        device="cpu",
        lr_scheduler=scheduler,
        mixed_precision=False,
        checkpoint_dir=args.checkpoint_dir,
    )
    history = trainer.fit(num_epochs=args.epochs)
    print(f"Best validation accuracy: {trainer.best_val_acc:.2f}%")
    return trainer, history


if __name__ == "__main__":
    main()
