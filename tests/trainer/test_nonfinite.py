"""The on_nonfinite policies: raise, skip the step, stop cleanly, or ignore (trainer/nonfinite.py)."""

import math

import pytest
import torch

from pfd_testing import make_loader, make_model
from pfdtrain import ClassificationTask, Trainer
from pfdtrain.errors import NonFiniteLossError
from pfdtrain.trainer.nonfinite import NonFiniteGuard


def _trainer(model=None, **kw):
    model = model or make_model()
    kw.setdefault("enable_progress_bar", False)
    return Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), **kw)


def _nan_at_batch(k):
    class NanLoss(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def forward(self, logits, targets):
            self.calls += 1
            loss = torch.nn.functional.cross_entropy(logits, targets)
            return loss * float("nan") if self.calls == k + 1 else loss

    return ClassificationTask(criterion=NanLoss())


def test_nonfinite_loss_raises_naming_the_batch():
    with pytest.raises(NonFiniteLossError, match=r"batch 3 .*on_nonfinite='skip'"):
        _trainer(max_epochs=1, task=_nan_at_batch(3)).fit(make_loader())


def test_nonfinite_loss_skip_leaves_weights_finite_and_skips_one_step():
    model = make_model()
    trainer = _trainer(model, max_epochs=1, task=_nan_at_batch(2), on_nonfinite="skip")
    with pytest.warns(UserWarning, match="skipping"):
        trainer.fit(make_loader())
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert trainer.global_step == 8  # the counter still advances: schedules keep their pace


def test_nonfinite_loss_stop_ends_training_cleanly():
    trainer = _trainer(max_epochs=3, task=_nan_at_batch(2), on_nonfinite="stop", log_every_n_steps=1)
    with pytest.warns(UserWarning, match="stopping"):
        trainer.fit(make_loader())
    assert trainer.history.num_epochs == 1 and trainer.should_stop


def test_nonfinite_loss_ignore_trains_on_without_checking():
    trainer = _trainer(max_epochs=2, task=_nan_at_batch(2), on_nonfinite="ignore", log_every_n_steps=1)
    trainer.fit(make_loader())
    assert trainer.history.num_epochs == 2 and trainer.global_step == 16
    assert math.isnan(trainer.history["train_loss"][0])



class _Stub:
    """What the guard reads of a Trainer."""

    task = ClassificationTask()
    current_epoch = 0
    global_step = 5
    batch_idx = 1
    should_stop = False


def test_unlogged_losses_are_checked_even_when_the_logged_mean_is_finite():
    # A task that logs no "loss" metric: the logged mean proves nothing about the real losses.
    guard, stub = NonFiniteGuard("stop"), _Stub()
    guard.check(stub, torch.tensor(float("inf")), None)
    with pytest.warns(UserWarning, match=r"inf.*epoch 0, batch 1 \(optimizer step 5\).*stopping"):
        guard.end_epoch(stub, logged_loss_mean=0.5)
    assert stub.should_stop


def test_logged_losses_with_a_finite_mean_are_not_read_again():
    # The epoch mean of the logged losses is trusted (a mean is finite only if every term is):
    # the kept tensors are dropped unread. A NaN kept tensor shows that no second check ran.
    guard, stub = NonFiniteGuard("raise"), _Stub()
    nan = torch.tensor(float("nan"))
    guard.check(stub, nan, nan)
    guard.end_epoch(stub, logged_loss_mean=1.0)
    guard.flush(stub)


def test_a_loss_that_is_not_a_tensor_names_the_task():
    with pytest.raises(Exception, match=r"ClassificationTask.training_step returned a loss of type float"):
        NonFiniteGuard("raise").check(_Stub(), 1.0, None)
