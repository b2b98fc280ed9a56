"""Exact resume: a straight run and an interrupted + resumed run end bit-identical."""

from pathlib import Path

import pytest
import torch

from pfd_testing import make_loader, make_model
from pfdtrain import Callback, Trainer
from pfdtrain.callbacks import EarlyStopping, ModelCheckpoint


class SaveAt(Callback):
    """Saves once: at the end of ``epoch`` or right after optimizer step ``step``."""

    writes_checkpoints = True

    def __init__(self, path, epoch=None, step=None):
        self.path, self.epoch, self.step = path, epoch, step

    def on_train_epoch_end(self, trainer):
        if self.epoch is not None and trainer.current_epoch == self.epoch:
            trainer.save_checkpoint(self.path)

    def on_train_batch_end(self, trainer, outputs, batch, batch_idx):
        if self.step is not None and trainer.global_step == self.step:
            trainer.save_checkpoint(self.path)


class Counter(Callback):
    """A stateful callback: its state must come back on resume."""

    def __init__(self):
        self.batches = 0
        self.loss_sum = 0.0

    def on_train_batch_end(self, trainer, outputs, batch, batch_idx):
        self.batches += 1

    def on_train_epoch_end(self, trainer):
        self.loss_sum += trainer.callback_metrics["train_loss"]

    def state_dict(self):
        return {"batches": self.batches, "loss_sum": self.loss_sum}

    def load_state_dict(self, state):
        self.batches, self.loss_sum = state["batches"], state["loss_sum"]


def _run(max_epochs, callbacks, ckpt_path=None, generator_loader=False):
    model = make_model(seed=5)  # dropout 0.2: consumes the global RNG every batch
    loader_kw = {"generator": torch.Generator().manual_seed(9)} if generator_loader else {}
    trainer = Trainer(
        model,
        lambda p: torch.optim.AdamW(p, lr=1e-2),
        scheduler=lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=5e-2, total_steps=4 * 7),
        scheduler_interval="step",
        max_epochs=max_epochs,
        callbacks=callbacks,
        seed=123,
        enable_progress_bar=False,
    )
    # 50 samples / batch 8 = 7 batches, the last one short; shuffled every epoch
    train = make_loader(n=50, batch_size=8, shuffle=True, **loader_kw)
    trainer.fit(train, make_loader(n=16, seed=1), ckpt_path=ckpt_path)
    return trainer


def _assert_identical(a, b):
    for (name, p), q in zip(a.model.named_parameters(), b.model.parameters(), strict=True):
        assert torch.equal(p, q), name
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for k in sa["state"]:
        for key, value in sa["state"][k].items():
            assert torch.equal(value, sb["state"][k][key]), (k, key)
    assert a.scheduler_config.scheduler.state_dict() == b.scheduler_config.scheduler.state_dict()
    assert a.history.to_dict() == b.history.to_dict()
    assert a.global_step == b.global_step and a.current_epoch == b.current_epoch
    assert torch.equal(torch.get_rng_state(), torch.get_rng_state())


def test_early_stopping_and_model_checkpoint_state_survive_resume(tmp_path):
    def callbacks(d):
        return [EarlyStopping(monitor="val_loss", patience=50), ModelCheckpoint(dirpath=tmp_path / d, monitor="val_acc",
                                                                                 mode="max", save_top_k=2)]

    straight_cbs = callbacks("straight")
    straight = _run(4, straight_cbs)
    path = tmp_path / "mid.pt"
    _run(4, [*callbacks("first"), SaveAt(path, epoch=1)])
    resumed_cbs = callbacks("resumed")
    resumed = _run(4, resumed_cbs, ckpt_path=path)
    _assert_identical(straight, resumed)
    es_a, es_b = straight_cbs[0].state_dict(), resumed_cbs[0].state_dict()
    assert es_a == es_b
    mc_a, mc_b = straight_cbs[1], resumed_cbs[1]
    assert mc_a.best_model_score == mc_b.best_model_score
    # the resumed run keeps the top-k bookkeeping of the first run (its files live in "first/")
    def names(cb):
        return sorted((Path(p).name, score) for p, score in cb.best_k_models.items())

    assert names(mc_a) == names(mc_b) and len(names(mc_a)) == 2


@pytest.mark.parametrize("generator_loader", [False, True], ids=["global-rng-loader", "own-generator-loader"])
def test_resume_after_epoch_2_of_4_is_bit_identical(tmp_path, generator_loader):
    straight_counter = Counter()
    straight = _run(4, [straight_counter], generator_loader=generator_loader)
    rng_after_straight = torch.get_rng_state()

    path = tmp_path / "epoch2.pt"
    _run(4, [Counter(), SaveAt(path, epoch=1)], generator_loader=generator_loader)  # saves after 2 epochs
    resumed_counter = Counter()
    resumed = _run(4, [resumed_counter], ckpt_path=path, generator_loader=generator_loader)
    _assert_identical(straight, resumed)
    assert torch.equal(torch.get_rng_state(), rng_after_straight)
    assert resumed_counter.state_dict() == straight_counter.state_dict()


def test_resume_in_the_middle_of_an_epoch_continues_at_the_next_batch(tmp_path):
    straight_counter = Counter()
    straight = _run(4, [straight_counter])
    path = tmp_path / "step10.pt"
    _run(4, [Counter(), SaveAt(path, step=10)])  # epoch 1, batch 2 (7 batches per epoch)
    seen_batches = []

    class Spy(Callback):
        def on_train_batch_start(self, trainer, batch, batch_idx):
            seen_batches.append((trainer.current_epoch, batch_idx))

    resumed_counter = Counter()
    resumed = _run(4, [resumed_counter, Spy()], ckpt_path=path)
    assert seen_batches[0] == (1, 3)
    _assert_identical(straight, resumed)
    assert resumed_counter.state_dict() == straight_counter.state_dict()


def test_checkpoint_is_plain_data_that_torch_loads_weights_only(tmp_path):
    path = tmp_path / "c.pt"
    _run(1, [SaveAt(path, epoch=0)])
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "pfdtrain.checkpoint"
    assert raw["training"]["epoch"] == 1 and raw["training"]["global_step"] == 7
    assert raw["model"]["architecture"] == "pfd_testing.TinyNet"
    assert set(raw["model"]["state_dict"]) == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
    assert raw["training"]["history"]["epoch"] == [0]


def test_resuming_a_finished_run_trains_nothing_more(tmp_path):
    path = tmp_path / "end.pt"
    first = _run(2, [SaveAt(path, epoch=1)])
    again = _run(2, [], ckpt_path=path)
    assert again.global_step == first.global_step
    assert again.history.to_dict() == first.history.to_dict()
