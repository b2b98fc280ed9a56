"""train_pinn.py with the legacy PINNTrainer and old-style callbacks."""

import train_pinn
from evaluate import evaluate


def test_physics_history_and_checkpoint(tmp_path, capsys):
    trainer, history = train_pinn.main(["--epochs", "3", "--checkpoint", str(tmp_path / "p.pth")])
    assert len(history) == 10 and history["train_freq_loss"] == [] and len(history["val_loss"]) == 3
    assert history["train_physics_loss"][0] == 0.0 < history["train_physics_loss"][1]  # linear lambda from 0
    assert trainer.current_lambda_physics == 0.3 * 2 / 3
    assert evaluate(tmp_path / "p.pth", "speed-aware")["accuracy"] == max(history["val_acc"])  # the best model
    assert "Training Complete!" in capsys.readouterr().out


def test_early_stopping_ends_training_with_stop_iteration(tmp_path, capsys):
    trainer, history = train_pinn.main(["--epochs", "6", "--checkpoint", str(tmp_path / "p.pth"),
                                        "--patience", "1", "--min-delta", "10"])
    out = capsys.readouterr().out
    assert "Stopped early after epoch 2" in out and "Training Complete!" not in out
    assert len(history["train_loss"]) == 2
