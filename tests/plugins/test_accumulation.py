import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from pfd_testing import make_data, make_model
from pfdtrain import Callback, Trainer
from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins import GradientAccumulation


def _train(loader, plugins=(), callbacks=()):
    model = make_model(dropout=0.0)  # no batch-norm, no dropout: batch composition is all that matters
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.5), plugins=list(plugins),
                      callbacks=list(callbacks), max_epochs=1, enable_progress_bar=False)
    trainer.fit(loader)
    return trainer


def _max_diff(a, b):
    return max((p - q).abs().max().item() for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True))


def test_k_batches_of_b_equal_one_batch_of_k_times_b():
    x, y = make_data(36)
    accumulated = _train(DataLoader(TensorDataset(x, y), batch_size=4), [GradientAccumulation(3)])
    big = _train(DataLoader(TensorDataset(x, y), batch_size=12))
    assert accumulated.global_step == big.global_step == 3
    assert _max_diff(accumulated, big) <= 1e-6


def test_final_partial_window_is_stepped_and_scaled_by_its_true_size():
    x, y = make_data(40)  # 10 batches of 4 with k=3: windows of 3, 3, 3 and 1 batch
    accumulated = _train(DataLoader(TensorDataset(x, y), batch_size=4), [GradientAccumulation(3)])
    sizes = [12, 12, 12, 4]
    starts = [0, 12, 24, 36]
    batches = [list(range(s, s + n)) for s, n in zip(starts, sizes, strict=True)]
    reference = _train(DataLoader(TensorDataset(x, y), batch_sampler=batches))
    assert accumulated.global_step == 4
    assert _max_diff(accumulated, reference) <= 1e-6
    assert all(p.grad is None for p in accumulated.model.parameters())  # nothing leaks out


def test_step_counters_and_step_schedulers_count_optimizer_steps():
    x, y = make_data(32)
    steps_seen = []

    class Spy(Callback):
        def on_before_optimizer_step(self, trainer, optimizer):
            steps_seen.append(trainer.global_step)

    model = make_model(dropout=0.0)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=1.0), plugins=[GradientAccumulation(4)],
                      scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, 1, gamma=0.5), scheduler_interval="step",
                      callbacks=[Spy()], max_epochs=1, enable_progress_bar=False)
    trainer.fit(DataLoader(TensorDataset(x, y), batch_size=4))  # 8 batches -> 2 steps
    assert steps_seen == [0, 1] and trainer.global_step == 2
    assert trainer.optimizer.param_groups[0]["lr"] == 0.25


@pytest.mark.parametrize("k", [0, -1, 1.5])
def test_k_below_one_is_refused_before_training(k):
    with pytest.raises(ConfigurationError, match="accumulate_grad_batches must be an int >= 1"):
        GradientAccumulation(k)
