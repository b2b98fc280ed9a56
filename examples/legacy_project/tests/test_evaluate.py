"""evaluate.py on checkpoints the project's scripts write: the accuracy they recorded when saving."""

import pytest
import torch

import train_cnn
import train_pinn
from evaluate import evaluate, main


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One CNNTrainer best_model.pth and one ModelCheckpoint file, written by the project's scripts."""
    folder = tmp_path_factory.mktemp("checkpoints")
    torch.set_num_threads(1)
    train_cnn.main(["--epochs", "2", "--checkpoint-dir", str(folder)])
    train_pinn.main(["--epochs", "2", "--checkpoint", str(folder / "pinn.pth")])
    return folder


def test_cnn_trainer_checkpoint_layout_and_accuracy(written):
    checkpoint = torch.load(written / "best_model.pth", map_location="cpu")
    assert list(checkpoint) == ["epoch", "model_state_dict", "optimizer_state_dict", "best_val_acc",
                                "best_val_loss", "history", "scheduler_state_dict"]
    results = evaluate(written / "best_model.pth")
    assert results["accuracy"] == checkpoint["best_val_acc"] == checkpoint["history"]["val_acc"][checkpoint["epoch"]]
    assert results["confusion_matrix"].sum() == 64


def test_model_checkpoint_callback_file_and_accuracy(written):
    checkpoint = torch.load(written / "pinn.pth", map_location="cpu")
    assert list(checkpoint) == ["epoch", "model_state_dict", "optimizer_state_dict", "metrics", "best_value"]
    results = evaluate(written / "pinn.pth", "speed-aware")
    assert results["accuracy"] == checkpoint["metrics"]["val_acc"] == checkpoint["best_value"]


def test_command_line(written, capsys):
    main([str(written / "best_model.pth")])
    assert "accuracy" in capsys.readouterr().out
