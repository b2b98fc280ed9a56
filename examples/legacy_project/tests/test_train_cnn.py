"""train_cnn.py with the legacy CNNTrainer: history, best_model.pth, reproducibility, resume."""

import torch

import train_cnn
from bearing.data import get_loaders
from bearing.models import SmallCNN1D
from evaluate import evaluate
from training.cnn_trainer import CNNTrainer


def test_training_writes_the_best_model(tmp_path):
    trainer, history = train_cnn.main(["--epochs", "4", "--checkpoint-dir", str(tmp_path)])
    assert list(history) == ["train_loss", "train_acc", "val_loss", "val_acc", "lr"]
    assert all(len(v) == 4 for v in history.values())
    assert history["lr"] == [0.01, 0.01, 0.005, 0.005]  # recorded after the scheduler step
    assert trainer.best_val_acc == max(history["val_acc"])
    assert evaluate(tmp_path / "best_model.pth")["accuracy"] == trainer.best_val_acc  # the best model was saved


def test_same_seed_same_numbers(tmp_path):
    _, first = train_cnn.main(["--epochs", "2", "--checkpoint-dir", str(tmp_path / "a")])
    _, second = train_cnn.main(["--epochs", "2", "--checkpoint-dir", str(tmp_path / "b")])
    assert first == second


def test_loading_a_checkpoint_appends_to_its_history(tmp_path):
    train_cnn.main(["--epochs", "2", "--checkpoint-dir", str(tmp_path / "cnn")])
    model = SmallCNN1D()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train_loader, val_loader = get_loaders()
    trainer = CNNTrainer(model, train_loader, val_loader, optimizer=optimizer, device="cpu",
                         mixed_precision=False, checkpoint_dir=tmp_path / "cnn")
    trainer.load_checkpoint(tmp_path / "cnn" / "best_model.pth")
    loaded_epochs = len(trainer.history["train_loss"])
    assert trainer.current_epoch == loaded_epochs - 1
    trainer.fit(1)
    assert len(trainer.history["train_loss"]) == loaded_epochs + 1
    assert trainer.current_epoch == 0  # legacy: fit restarts its epoch count
