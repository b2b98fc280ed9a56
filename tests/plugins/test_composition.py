"""Plugins compose, and the composed state resumes exactly."""

import torch

from pfd_testing import make_loader, make_model
from pfdtrain import Callback, Trainer
from pfdtrain.plugins import EMA, GradientAccumulation, GradientClipping, MixedPrecision


class SaveAfter(Callback):
    writes_checkpoints = True

    def __init__(self, path, epoch):
        self.path, self.epoch = path, epoch

    def on_train_epoch_end(self, trainer):
        if trainer.current_epoch == self.epoch:
            trainer.save_checkpoint(self.path)


def _run(epochs, callbacks=(), ckpt_path=None):
    model = make_model(seed=4)
    plugins = [MixedPrecision("bf16-mixed"), GradientAccumulation(3), GradientClipping(max_norm=0.5),
               EMA(decay=0.9)]
    trainer = Trainer(model, lambda p: torch.optim.AdamW(p, lr=1e-2), plugins=plugins,
                      scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.5), scheduler_interval="step",
                      callbacks=list(callbacks), max_epochs=epochs, seed=11, enable_progress_bar=False)
    trainer.fit(make_loader(n=56, batch_size=8, shuffle=True), make_loader(seed=2), ckpt_path=ckpt_path)
    return trainer


def test_bf16_accumulation_clipping_and_ema_together_resume_bit_identically(tmp_path):
    straight = _run(4)
    _run(4, [SaveAfter(tmp_path / "e2.pt", epoch=1)])
    resumed = _run(4, ckpt_path=tmp_path / "e2.pt")
    for p, q in zip(straight.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(p, q)
    ema_a, ema_b = straight.plugins[3], resumed.plugins[3]
    assert all(torch.equal(v, ema_b.shadow[k]) for k, v in ema_a.shadow.items())
    assert straight.history.to_dict() == resumed.history.to_dict()
    # 7 batches per epoch in windows of 3: 3 optimizer steps per epoch (the last window has 1 batch)
    assert straight.global_step == resumed.global_step == 12
