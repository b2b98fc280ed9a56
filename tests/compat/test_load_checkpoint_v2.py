"""The legacy trainers' ``load_checkpoint`` reads v2 files too (migrated by ``pfdtrain upgrade`` /
``migrate-checkpoint``, or written by the core Trainer): legacy-API code that reads its own
checkpoints keeps working after the migration, and gets what it got from the v1 file."""

import shutil

import torch

from pfd_testing import make_loader, make_model
from pfdtrain.checkpoint import load_any, new_checkpoint, save
from pfdtrain.compat.cnn_trainer import CNNTrainer
from pfdtrain.compat.spectrogram_trainer import SpectrogramTrainer
from pfdtrain.migration.migrate import migrate_file


def _cnn_trainer(model=None, scheduler=False):
    model = model or make_model(dropout=0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(optimizer, 1, 0.5) if scheduler else None
    return CNNTrainer(model, make_loader(), make_loader(n=16, seed=1), optimizer=optimizer, device="cpu",
                      mixed_precision=False, lr_scheduler=sched)


def _migrated_copy(v1, tmp_path):
    """``v1`` and a copy of it migrated in place (v2 now)."""
    v2 = tmp_path / "migrated.pth"
    shutil.copy(v1, v2)
    result = migrate_file(v2)
    assert result.status == "migrated", result.error
    assert torch.load(v2, weights_only=True)["format"] == "pfdtrain.checkpoint"
    return v2


def test_cnn_trainer_loads_a_migrated_file_as_it_loaded_the_v1_file(tmp_path):
    writer = _cnn_trainer(scheduler=True)
    writer.checkpoint_dir = tmp_path
    writer.fit(2, save_best=True)
    v1 = tmp_path / "best_model.pth"
    v2 = _migrated_copy(v1, tmp_path)
    from_v1, from_v2 = _cnn_trainer(make_model(seed=1, dropout=0.0), True), _cnn_trainer(make_model(seed=2), True)
    from_v1.load_checkpoint(v1)
    from_v2.load_checkpoint(v2)
    for a, b in zip(from_v1.model.parameters(), from_v2.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert from_v2.current_epoch == from_v1.current_epoch  # the 0-based index, as the v1 file stores it
    assert (from_v2.best_val_acc, from_v2.best_val_loss, from_v2.history) == \
        (from_v1.best_val_acc, from_v1.best_val_loss, from_v1.history)
    assert from_v2.optimizer.state_dict()["state"].keys() == from_v1.optimizer.state_dict()["state"].keys()
    assert from_v2.lr_scheduler.state_dict() == from_v1.lr_scheduler.state_dict()


def test_cnn_trainer_loads_a_file_of_the_core_trainer(tmp_path):
    model = make_model(seed=3, dropout=0.0)
    trainer = _cnn_trainer()
    path = tmp_path / "core.pt"
    save(new_checkpoint(model={"state_dict": model.state_dict()}, optimizer=trainer.optimizer.state_dict(),
                        training={"epoch": 4, "best_metric": 75.0, "history": {"val_acc": [70.0, 75.0]}}), path)
    trainer.load_checkpoint(path)
    assert all(torch.equal(a, b) for a, b in zip(trainer.model.parameters(), model.parameters(), strict=True))
    assert (trainer.current_epoch, trainer.best_val_acc, trainer.history) == (3, 75.0, {"val_acc": [70.0, 75.0]})


def test_spectrogram_trainer_returns_the_v1_dict_for_a_migrated_file(tmp_path):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 3))
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.rand(4, 1, 6, 8), torch.zeros(4).long()), batch_size=2)
    trainer = SpectrogramTrainer(model, loader, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), device="cpu")
    v1 = tmp_path / "spec.pth"
    trainer.save_checkpoint(v1, metrics={"val_acc": 50.0})
    v2 = _migrated_copy(v1, tmp_path)
    fresh_v1, fresh_v2 = (torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 3)) for _ in range(2))
    got_v1 = SpectrogramTrainer.load_checkpoint(v1, fresh_v1)
    got_v2 = SpectrogramTrainer.load_checkpoint(v2, fresh_v2)
    assert list(got_v2) == list(got_v1)  # the legacy writer's keys, in its order
    assert {k: v for k, v in got_v2.items() if k not in ("model_state_dict", "optimizer_state_dict")} == \
        {k: v for k, v in got_v1.items() if k not in ("model_state_dict", "optimizer_state_dict")}
    assert all(torch.equal(a, b) for a, b in zip(fresh_v1.parameters(), fresh_v2.parameters(), strict=True))
    assert load_any(v2)["extra"]["specaugment_config"] == got_v1["specaugment_config"]
