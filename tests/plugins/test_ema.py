import copy

import pytest
import torch

from pfd_testing import make_loader, make_model
from pfdtrain import Callback, Trainer
from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins import EMA


class WeightLog(Callback):
    """Records the weights right after every optimizer step (before the next batch)."""

    def __init__(self):
        self.after_step = []

    def on_train_batch_end(self, trainer, outputs, batch, batch_idx):
        self.after_step.append({k: v.clone() for k, v in trainer.model.state_dict().items()})


def _fit(ema, epochs=1, callbacks=(), ckpt_path=None, max_epochs=None):
    model = make_model(seed=3)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.2), plugins=[ema], callbacks=list(callbacks),
                      max_epochs=max_epochs or epochs, enable_progress_bar=False, seed=0)
    trainer.fit(make_loader(shuffle=True), make_loader(seed=1), ckpt_path=ckpt_path)
    return trainer


def test_ema_follows_the_formula_with_warmup_and_update_every():
    log = WeightLog()
    initial = {k: v.clone() for k, v in make_model(seed=3).state_dict().items()}
    ema = EMA(decay=0.9, warmup=True, update_every=2)
    _fit(ema, callbacks=[log])
    expected, n = copy.deepcopy(initial), 0
    for step, weights in enumerate(log.after_step, start=1):
        if step % 2:
            continue
        d = min(0.9, (1 + n) / (10 + n))
        expected = {k: d * expected[k] + (1 - d) * weights[k] for k in expected}
        n += 1
    assert ema.num_updates == n == 4
    for k in expected:
        assert torch.allclose(ema.shadow[k], expected[k], atol=1e-6), k


def test_validation_uses_the_averaged_weights_and_training_weights_come_back():
    ema = EMA(decay=0.5, warmup=False)
    trainer = _fit(ema)
    trained = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    metrics = trainer.validate(make_loader(seed=1))
    reference = make_model(seed=3)
    reference.load_state_dict(ema.shadow)
    reference.eval()
    x, y = make_loader(n=64, batch_size=64, seed=1).dataset.tensors
    with torch.no_grad():
        expected = torch.nn.functional.cross_entropy(reference(x), y).item()
    assert metrics["val_loss"] == pytest.approx(expected, rel=1e-5)
    assert all(torch.equal(v, trained[k]) for k, v in trainer.model.state_dict().items())


def test_ema_state_is_checkpointed_and_resumes_bit_identically(tmp_path):
    class SaveAfterFirst(Callback):
        writes_checkpoints = True

        def on_train_epoch_end(self, trainer):
            if trainer.current_epoch == 0:
                trainer.save_checkpoint(tmp_path / "e1.pt")

    straight_ema = EMA(decay=0.8)
    _fit(straight_ema, epochs=2)
    _fit(EMA(decay=0.8), epochs=2, callbacks=[SaveAfterFirst()])
    resumed_ema = EMA(decay=0.8)
    _fit(resumed_ema, epochs=2, ckpt_path=tmp_path / "e1.pt")
    assert resumed_ema.num_updates == straight_ema.num_updates
    for k, v in straight_ema.shadow.items():
        assert torch.equal(v, resumed_ema.shadow[k]), k


def test_export_ema_weights_puts_them_in_model_state_dict(tmp_path):
    ema = EMA(decay=0.5, export_ema_weights=True)
    trainer = _fit(ema)
    trainer.save_checkpoint(tmp_path / "c.pt")
    raw = torch.load(tmp_path / "c.pt", weights_only=True)
    for k, v in raw["model"]["state_dict"].items():
        assert torch.equal(v, ema.shadow[k])
        assert torch.equal(raw["ema"]["training_state_dict"][k], trainer.model.state_dict()[k])


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5, -0.1])
def test_decay_outside_0_1_is_refused(decay):
    with pytest.raises(ConfigurationError, match=r"decay must be in \(0, 1\)"):
        EMA(decay=decay)
