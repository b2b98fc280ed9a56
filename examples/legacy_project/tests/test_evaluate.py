"""evaluate.py on the checkpoints shipped with the project, and on checkpoints its scripts write.

The shipped files are what the project keeps results in: evaluating them must give the validation
accuracy recorded when they were saved (README table: 54.69 % and 71.88 % of the 64 signals).
"""

import pytest
import torch

import train_cnn
import train_pinn
from evaluate import evaluate, main

RECORDED = {"cnn/best_model.pth": (35 / 64 * 100, 5), "pinn/pinn_best.pth": (46 / 64 * 100, 7)}


@pytest.mark.parametrize(("name", "model"), [("cnn/best_model.pth", "cnn"), ("pinn/pinn_best.pth", "speed-aware")])
def test_shipped_checkpoints_give_the_recorded_accuracy(shipped, name, model):
    accuracy, epoch = RECORDED[name]
    results = evaluate(shipped / name, model)
    assert results["accuracy"] == pytest.approx(accuracy, abs=0.005)
    assert results["epoch"] == epoch  # 0-based index of the epoch that was saved
    assert results["confusion_matrix"].sum() == 64


def test_command_line_on_the_shipped_cnn_checkpoint(shipped, capsys):
    main([str(shipped / "cnn" / "best_model.pth")])
    assert "Checkpoint from epoch 6: accuracy 54.69%" in capsys.readouterr().out


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One CNNTrainer best_model.pth and one ModelCheckpoint file, written by the project's scripts."""
    folder = tmp_path_factory.mktemp("checkpoints")
    torch.set_num_threads(1)
    cnn, _ = train_cnn.main(["--epochs", "2", "--checkpoint-dir", str(folder)])
    _, history = train_pinn.main(["--epochs", "2", "--checkpoint", str(folder / "pinn.pth")])
    return folder, cnn.best_val_acc, max(history["val_acc"])


def test_freshly_written_checkpoints_give_the_best_accuracy_of_their_run(written):
    folder, cnn_best, pinn_best = written
    assert evaluate(folder / "best_model.pth")["accuracy"] == cnn_best
    assert evaluate(folder / "pinn.pth", "speed-aware")["accuracy"] == pinn_best
