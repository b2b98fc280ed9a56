"""Trainer.fit(ckpt_path=<legacy file>) resumes: weights always, optimizer/scheduler/epoch where present.

Expected values come from the zoo manifest and from reading the legacy file with plain
``torch.load`` (never from pfdtrain). Legacy epochs are the 0-based index of the last finished
epoch (``scripts/train_cnn.py --resume`` restarts at ``epoch + 1``), so the trainer continues at
``epoch + 1``.
"""

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from pfdtrain import Trainer
from zoo_manifest import ENTRIES, REPO, TinyCNN, copy_zoo, tensor_sha256

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
FIXTURES = REPO / "golden" / "training" / "fixtures"


def _loader():
    data = torch.load(FIXTURES / "data_cnn_train.pt", weights_only=True)
    return DataLoader(TensorDataset(data["signals"], data["labels"]), batch_size=8, shuffle=False)


def _trainer(max_epochs, optimizer=None, scheduler=None):
    return Trainer(TinyCNN(3), optimizer or (lambda p: torch.optim.Adam(p, lr=0.02)), scheduler=scheduler,
                   max_epochs=max_epochs, device="cpu", enable_progress_bar=False)


def _step_lr(optimizer):
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)


def test_resume_from_a_cnn_trainer_best_model_restores_everything_it_holds(tmp_path):
    name = "cnn_trainer_best_model_with_scheduler.pth"
    path = copy_zoo(tmp_path, [name]) / name
    entry = ENTRIES[name]
    trainer = _trainer(max_epochs=entry["content"]["epoch"] + 1, scheduler=_step_lr)
    trainer.fit(_loader(), ckpt_path=path)  # nothing left to train: state as restored
    weights = {k: tensor_sha256(v) for k, v in trainer.model.state_dict().items()}
    assert weights == {k: v["sha256"] for k, v in entry["content"]["model_state_dict"].items()}
    assert trainer.current_epoch == entry["content"]["epoch"] + 1 == 2
    exp_avg = trainer.optimizer.state_dict()["state"][0]["exp_avg"]
    saved_state = entry["content"]["optimizer_state_dict"]["state"]["dict_items"]
    assert tensor_sha256(exp_avg) == saved_state[0][1]["exp_avg"]["sha256"]
    assert trainer.optimizer.param_groups[0]["lr"] == entry["content"]["optimizer_state_dict"]["param_groups"][0]["lr"]
    assert trainer.scheduler_config.scheduler.last_epoch == entry["content"]["scheduler_state_dict"]["last_epoch"]
    assert trainer.history["train_loss"] == entry["content"]["history"]["train_loss"]


def test_training_continues_for_the_remaining_epochs_with_optimizer_and_scheduler_state(tmp_path):
    name = "cnn_trainer_best_model_with_scheduler.pth"
    path = copy_zoo(tmp_path, [name]) / name
    legacy = torch.load(path, weights_only=True)  # what the legacy file says, read without pfdtrain
    steps_before = float(legacy["optimizer_state_dict"]["state"][0]["step"])
    trainer = _trainer(max_epochs=3, scheduler=_step_lr)
    history = trainer.fit(_loader(), ckpt_path=path)
    assert trainer.current_epoch == 3 and len(history["train_loss"]) == 3
    assert history["train_loss"][:2] == legacy["history"]["train_loss"]
    assert float(trainer.optimizer.state_dict()["state"][0]["step"]) == steps_before + 3  # 24 samples / batch 8
    assert trainer.optimizer.param_groups[0]["lr"] == legacy["scheduler_state_dict"]["_last_lr"][0] * 0.5
    assert not torch.equal(trainer.model.fc.weight.detach(), legacy["model_state_dict"]["fc.weight"])


def test_resume_from_a_train_cnn_script_file_with_windows_paths_in_its_args(tmp_path):
    name = "train_cnn_script_windowspath_args.pth"
    path = copy_zoo(tmp_path, [name]) / name
    trainer = _trainer(1, optimizer=lambda p: torch.optim.AdamW(p, lr=1e-3),
                       scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, 1, 0.1))
    trainer.fit(_loader(), ckpt_path=path)
    assert trainer.current_epoch == 1  # the script stored epoch 0 and resumes at epoch + 1
    saved_weight = ENTRIES[name]["content"]["model_state_dict"]["conv.weight"]
    assert tensor_sha256(trainer.model.conv.weight) == saved_weight["sha256"]


@pytest.mark.parametrize("name", ["cnn_trainer_dataparallel_best_model.pth", "bare_state_dict.pth",
                                  "cnn_callbacks_model_checkpoint_no_optimizer.pth",
                                  "legacy_nonzip_cnn_trainer_best_model.pth"])
def test_weights_are_restored_from_layouts_without_full_training_state(name, tmp_path):
    path = copy_zoo(tmp_path, [name]) / name
    entry = ENTRIES[name]
    trainer = _trainer(max_epochs=entry["scalars"].get("epoch", -1) + 1)
    trainer.fit(_loader(), ckpt_path=path)
    expected = {t["path"][-1].removeprefix(entry["weights_key_prefix"]): t["sha256"]
                for t in entry["tensors"] if t["role"] == "model"}
    assert {k: tensor_sha256(v) for k, v in trainer.model.state_dict().items()} == expected
