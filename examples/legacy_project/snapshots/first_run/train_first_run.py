"""Re-run the project's first experiment with the training package frozen beside this script.

    python snapshots/first_run/train_first_run.py
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # this snapshot's own training package comes first
sys.path.insert(1, str(HERE.parents[1]))  # the project, for its bearing package

import torch  # noqa: E402

from bearing.data import NUM_CLASSES, get_loaders  # noqa: E402
from bearing.models import SmallCNN1D  # noqa: E402
from training.optimizers import create_optimizer  # noqa: E402


def main():
    torch.manual_seed(0)
    train_loader, _ = get_loaders(batch_size=32)
    model = SmallCNN1D(num_classes=NUM_CLASSES)
    optimizer = create_optimizer(model.parameters())
    criterion = torch.nn.CrossEntropyLoss()
    for inputs, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
    group = optimizer.param_groups[0]
    print(f"optimizer {type(optimizer).__name__} lr={group['lr']} momentum={group['momentum']}")
    return optimizer


if __name__ == "__main__":
    main()
