"""Evaluate a saved model on the validation signals.

    python evaluate.py checkpoints/cnn/best_model.pth
    python evaluate.py checkpoints/pinn/pinn_best.pth --model speed-aware
"""

import argparse

import torch

from bearing.data import NUM_CLASSES, get_loaders
from bearing.models import SmallCNN1D, SpeedAwareCNN1D
from training.metrics import compute_accuracy, compute_confusion_matrix

MODELS = {"cnn": SmallCNN1D, "speed-aware": SpeedAwareCNN1D}


def evaluate(checkpoint_path, model_name="cnn"):
    checkpoint = torch.load(checkpoint_path, map_location="cpu")
    model = MODELS[model_name](num_classes=NUM_CLASSES)
    model.load_state_dict(checkpoint["model_state_dict"])
    model.eval()
    _, val_loader = get_loaders(batch_size=16, with_metadata=model_name == "speed-aware")
    predictions, targets = [], []
    with torch.no_grad():
        for batch in val_loader:
            inputs, labels = batch[0], batch[1]
            outputs = model(inputs, batch[2]) if len(batch) == 3 else model(inputs)
            predictions.append(outputs.argmax(dim=1))
            targets.append(labels)
    predictions, targets = torch.cat(predictions), torch.cat(targets)
    return {
        "epoch": checkpoint["epoch"],
        "accuracy": compute_accuracy(predictions, targets),
        "confusion_matrix": compute_confusion_matrix(predictions, targets, num_classes=NUM_CLASSES),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoint", nargs="?", default="checkpoints/cnn/best_model.pth")
    parser.add_argument("--model", choices=sorted(MODELS), default="cnn")
    args = parser.parse_args(argv)
    results = evaluate(args.checkpoint, args.model)
    print(f"Checkpoint from epoch {results['epoch'] + 1}: accuracy {results['accuracy']:.2f}%")
    print(results["confusion_matrix"])
    return results


if __name__ == "__main__":
    main()
