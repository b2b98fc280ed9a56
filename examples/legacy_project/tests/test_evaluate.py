"""The shipped v1 checkpoints load and evaluate to the accuracy recorded when they were saved."""

import torch

from evaluate import evaluate, main


def test_cnn_trainer_checkpoint_layout_and_accuracy(shipped):
    path = shipped / "cnn" / "best_model.pth"
    checkpoint = torch.load(path, map_location="cpu")
    assert list(checkpoint) == ["epoch", "model_state_dict", "optimizer_state_dict", "best_val_acc",
                                "best_val_loss", "history", "scheduler_state_dict"]
    results = evaluate(path)
    assert results["accuracy"] == checkpoint["best_val_acc"] == checkpoint["history"]["val_acc"][checkpoint["epoch"]]
    assert results["confusion_matrix"].sum() == 64


def test_model_checkpoint_callback_file_and_accuracy(shipped):
    path = shipped / "pinn" / "pinn_best.pth"
    checkpoint = torch.load(path, map_location="cpu")
    assert list(checkpoint) == ["epoch", "model_state_dict", "optimizer_state_dict", "metrics", "best_value"]
    results = evaluate(path, "speed-aware")
    assert results["accuracy"] == checkpoint["metrics"]["val_acc"] == checkpoint["best_value"]


def test_command_line(shipped, capsys):
    main([str(shipped / "cnn" / "best_model.pth")])
    assert "accuracy" in capsys.readouterr().out
