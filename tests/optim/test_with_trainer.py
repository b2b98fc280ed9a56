"""Warm-up, cosine, one-cycle and plateau schedules driven by the Trainer at interval epoch and step."""

import math

import pytest

from pfd_testing import make_loader, make_model
from pfdtrain import Trainer
from pfdtrain.optim import create_optimizer, create_scheduler

STEPS_PER_EPOCH = 8  # 64 samples, batch 8
EPOCHS = 3


def _lrs(name, interval, **kw):
    """LR in use at every optimizer step (read before each step)."""
    seen = []
    from pfdtrain import Callback

    class Spy(Callback):
        def on_before_optimizer_step(self, trainer, optimizer):
            seen.append(optimizer.param_groups[0]["lr"])

    model = make_model()
    trainer = Trainer(model, lambda p: create_optimizer("sgd", p, lr=0.1, weight_decay=0.0),
                      scheduler=lambda opt: create_scheduler(name, opt, **kw), scheduler_interval=interval,
                      callbacks=[Spy()], max_epochs=EPOCHS, enable_progress_bar=False)
    trainer.fit(make_loader(), make_loader(seed=1))
    return seen, trainer


def test_cosine_per_epoch_changes_lr_between_epochs_only():
    lrs, _ = _lrs("cosine", "epoch", T_max=EPOCHS)
    per_epoch = [lrs[i * STEPS_PER_EPOCH:(i + 1) * STEPS_PER_EPOCH] for i in range(EPOCHS)]
    assert all(len(set(e)) == 1 for e in per_epoch)
    expected = [0.1 * (1 + math.cos(math.pi * e / EPOCHS)) / 2 for e in range(EPOCHS)]
    assert [e[0] for e in per_epoch] == pytest.approx(expected)


def test_cosine_per_step_follows_the_step_count():
    total = EPOCHS * STEPS_PER_EPOCH
    lrs, _ = _lrs("cosine", "step", T_max=total)
    expected = [0.1 * (1 + math.cos(math.pi * s / total)) / 2 for s in range(total)]
    assert lrs == pytest.approx(expected)


def test_one_cycle_per_step_runs_exactly_its_total_steps():
    total = EPOCHS * STEPS_PER_EPOCH
    lrs, _ = _lrs("onecycle", "step", max_lr=0.5, total_steps=total)
    assert len(lrs) == total and max(lrs) == pytest.approx(0.5, rel=1e-2)  # the peak falls between two steps
    assert lrs[0] < lrs[len(lrs) // 3] and lrs[-1] < lrs[0]


@pytest.mark.parametrize("interval", ["epoch", "step"])
def test_linear_warmup_then_constant(interval):
    lrs, _ = _lrs("warmup", interval, warmup_steps=2)
    firsts = lrs[::STEPS_PER_EPOCH] if interval == "epoch" else lrs[:3]
    assert firsts[0] < firsts[1] < firsts[2] or firsts[0] < firsts[1] == firsts[2]
    assert lrs[-1] == pytest.approx(0.1)


@pytest.mark.parametrize("interval", ["epoch", "step"])
def test_plateau_at_both_intervals_never_crashes(interval):
    lrs, _ = _lrs("plateau", interval, mode="min", factor=0.5, patience=0)
    assert len(lrs) == EPOCHS * STEPS_PER_EPOCH
    assert min(lrs) <= 0.1
