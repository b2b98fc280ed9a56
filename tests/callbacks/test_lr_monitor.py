import pytest
import torch

from pfdtrain.callbacks import LearningRateMonitor
from pfdtrain.errors import ConfigurationError


def _halve_lr(trainer, batch_idx):
    """Stands in for a step scheduler: every optimizer step halves every group's lr."""
    for group in trainer.optimizer.param_groups:
        group["lr"] /= 2


def test_epoch_interval_single_group(make_trainer):
    trainer = make_trainer()
    lr_mon = LearningRateMonitor()
    trainer.fit([lr_mon], [{"train_loss": 1.0}] * 3, batches=2, on_batch=_halve_lr)
    # 0.1 at epoch 0; two halvings per epoch
    assert lr_mon.lrs == {"lr-SGD": [0.1, 0.025, 0.00625]}
    assert trainer.callback_metrics["lr-SGD"] == 0.00625


def test_param_groups_and_momentum(make_trainer):
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    opt = torch.optim.Adam(
        [
            {"params": model[0].parameters(), "lr": 0.01},
            {"params": model[1].parameters(), "lr": 0.002, "betas": (0.8, 0.9)},
        ]
    )
    trainer = make_trainer(model=model, unwrapped_model=model, optimizer=opt)
    lr_mon = LearningRateMonitor(log_momentum=True)
    trainer.fit([lr_mon], [{"train_loss": 1.0}] * 2)
    assert lr_mon.lrs == {"lr-Adam/pg0": [0.01, 0.01], "lr-Adam/pg1": [0.002, 0.002]}
    assert lr_mon.momentums == {"momentum-Adam/pg0": [0.9, 0.9], "momentum-Adam/pg1": [0.8, 0.8]}
    expected = {"lr-Adam/pg0": 0.01, "lr-Adam/pg1": 0.002, "momentum-Adam/pg0": 0.9, "momentum-Adam/pg1": 0.8}
    for key, value in expected.items():
        assert trainer.callback_metrics[key] == value


def test_sgd_momentum_and_optimizer_without_momentum(make_trainer):
    model = torch.nn.Linear(2, 1)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.95)
    lr_mon = LearningRateMonitor(log_momentum=True)
    make_trainer(model=model, optimizer=sgd).fit([lr_mon], [{"train_loss": 1.0}])
    assert lr_mon.momentums == {"momentum-SGD": [0.95]}

    adagrad = torch.optim.Adagrad(model.parameters(), lr=0.1)
    lr_mon = LearningRateMonitor(log_momentum=True)
    with pytest.warns(UserWarning, match="no momentum"):
        make_trainer(model=model, optimizer=adagrad).fit([lr_mon], [{"train_loss": 1.0}])
    assert lr_mon.momentums == {"momentum-Adagrad": [0.0]}


def test_step_interval_records_once_per_logged_optimizer_step(make_trainer):
    # 4 batches, optimizer step every 2 -> steps 0,1 in epoch 0 and 2,3 in epoch 1 start batches
    trainer = make_trainer(accumulate=2, log_every_n_steps=1)
    lr_mon = LearningRateMonitor(logging_interval="step")

    def halve_on_step(tr, batch_idx):
        if (batch_idx + 1) % 2 == 0:
            _halve_lr(tr, batch_idx)

    trainer.fit([lr_mon], [{"train_loss": 1.0}] * 2, on_batch=halve_on_step)
    assert lr_mon.lrs == {"lr-SGD": [0.1, 0.05, 0.025, 0.0125]}


def test_step_interval_respects_log_every_n_steps(make_trainer):
    trainer = make_trainer(log_every_n_steps=3)
    lr_mon = LearningRateMonitor(logging_interval="step")
    trainer.fit([lr_mon], [{"train_loss": 1.0}] * 2, on_batch=_halve_lr)  # 8 steps
    # recorded before the batches that start at steps 0, 3, 6
    assert lr_mon.lrs == {"lr-SGD": [0.1, 0.1 / 8, 0.1 / 64]}


def test_state_roundtrip_continues_the_lists_without_duplicates(make_trainer):
    lr_mon = LearningRateMonitor()
    trainer = make_trainer()
    trainer.fit([lr_mon], [{"train_loss": 1.0}] * 2)
    resumed = LearningRateMonitor()
    resumed.load_state_dict(lr_mon.state_dict())
    t2 = make_trainer(current_epoch=1)  # a mid-epoch resume replays on_train_epoch_start of epoch 1
    t2.fit([resumed], [{"train_loss": 1.0}] * 2)
    assert resumed.lrs == {"lr-SGD": [0.1, 0.1, 0.1]}


def test_bad_arguments():
    with pytest.raises(ConfigurationError, match="'epoch' or 'step'"):
        LearningRateMonitor(logging_interval="batch")
    with pytest.raises(ConfigurationError, match="optimizer"):
        LearningRateMonitor().on_fit_start(type("T", (), {"optimizer": None})())
    assert LearningRateMonitor("step").state_key != LearningRateMonitor("epoch").state_key


# ---------------------------------------------------------------------- with the real Trainer


def test_real_trainer_with_a_scheduler(real_trainer, loaders):
    lr_mon = LearningRateMonitor()
    trainer = real_trainer(
        [lr_mon], lr=0.1, max_epochs=3, scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5)
    )
    history = trainer.fit(*loaders)
    assert lr_mon.lrs == {"lr-SGD": [0.1, 0.05, 0.025]}
    assert history["lr"] == lr_mon.lrs["lr-SGD"]


def test_real_trainer_step_interval(real_trainer, loaders):
    lr_mon = LearningRateMonitor(logging_interval="step")
    trainer = real_trainer([lr_mon], lr=0.1, max_epochs=2, log_every_n_steps=4)
    trainer.fit(*loaders)  # 16 optimizer steps: recorded before steps 0, 4, 8, 12
    assert lr_mon.lrs == {"lr-SGD": [0.1] * 4}
