"""Legacy ``training.cnn_schedulers`` on top of :mod:`pfdtrain.optim`.

Kept quirks: ``create_plateau_scheduler`` passes ``verbose=True``, which this torch rejects
(``TypeError``); ``WarmupScheduler`` starts at ``base_lr / warmup_epochs`` and hands over to the
base scheduler as :class:`pfdtrain.optim.LinearWarmup` does; ``PolynomialLRScheduler`` holds at
``end_lr`` (default 1e-6). Each factory logs one INFO line on ``training.cnn_schedulers``.
"""

from __future__ import annotations

import logging

from pfdtrain.optim import LinearWarmup, PolynomialDecayLR, create_scheduler

__all__ = [
    "PolynomialLRScheduler",
    "WarmupScheduler",
    "create_cosine_scheduler",
    "create_cosine_warmrestarts_scheduler",
    "create_exponential_scheduler",
    "create_onecycle_scheduler",
    "create_plateau_scheduler",
    "create_step_scheduler",
    "test_schedulers",
]

logger = logging.getLogger("training.cnn_schedulers")


def create_cosine_scheduler(optimizer, num_epochs, eta_min=1e-6, last_epoch=-1):
    logger.info(f"Created CosineAnnealingLR scheduler: T_max={num_epochs}, eta_min={eta_min}")
    return create_scheduler("cosine", optimizer, T_max=num_epochs, eta_min=eta_min, last_epoch=last_epoch)


def create_cosine_warmrestarts_scheduler(optimizer, T_0=10, T_mult=2, eta_min=1e-6, last_epoch=-1):
    logger.info(f"Created CosineAnnealingWarmRestarts scheduler: T_0={T_0}, T_mult={T_mult}, eta_min={eta_min}")
    return create_scheduler("cosine_restarts", optimizer, T_0=T_0, T_mult=T_mult, eta_min=eta_min,
                            last_epoch=last_epoch)


def create_onecycle_scheduler(optimizer, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos",
                              div_factor=25.0, final_div_factor=1e4):
    logger.info(f"Created OneCycleLR scheduler: max_lr={max_lr}, total_steps={total_steps}")
    return create_scheduler("onecycle", optimizer, max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                            anneal_strategy=anneal_strategy, div_factor=div_factor,
                            final_div_factor=final_div_factor)


def create_step_scheduler(optimizer, step_size=10, gamma=0.1, last_epoch=-1):
    logger.info(f"Created StepLR scheduler: step_size={step_size}, gamma={gamma}")
    return create_scheduler("step", optimizer, step_size=step_size, gamma=gamma, last_epoch=last_epoch)


def create_exponential_scheduler(optimizer, gamma=0.95, last_epoch=-1):
    logger.info(f"Created ExponentialLR scheduler: gamma={gamma}")
    return create_scheduler("exponential", optimizer, gamma=gamma, last_epoch=last_epoch)


def create_plateau_scheduler(optimizer, mode="max", factor=0.1, patience=10, threshold=1e-4, min_lr=1e-6):
    scheduler = create_scheduler("plateau", optimizer, mode=mode, factor=factor, patience=patience,
                                 threshold=threshold, min_lr=min_lr, verbose=True)
    logger.info(f"Created ReduceLROnPlateau scheduler: mode={mode}, factor={factor}, patience={patience}")
    return scheduler


class WarmupScheduler(LinearWarmup):
    def __init__(self, optimizer, warmup_epochs, base_scheduler=None, last_epoch=-1):
        self.warmup_epochs = warmup_epochs
        self.base_scheduler = base_scheduler
        super().__init__(optimizer, warmup_epochs, after=base_scheduler, last_epoch=last_epoch)


class PolynomialLRScheduler(PolynomialDecayLR):
    def __init__(self, optimizer, total_epochs, power=1.0, end_lr=1e-6, last_epoch=-1):
        self.total_epochs = total_epochs
        super().__init__(optimizer, total_epochs, power=power, end_lr=end_lr, last_epoch=last_epoch)


def test_schedulers():
    """Smoke test: every factory builds a scheduler that steps."""
    import torch

    def optimizer():
        return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)

    builders = {
        "cosine": lambda o: create_cosine_scheduler(o, num_epochs=10),
        "warm_restarts": lambda o: create_cosine_warmrestarts_scheduler(o),
        "onecycle": lambda o: create_onecycle_scheduler(o, max_lr=0.1, total_steps=20),
        "step": lambda o: create_step_scheduler(o),
        "exponential": lambda o: create_exponential_scheduler(o),
        "warmup": lambda o: WarmupScheduler(o, warmup_epochs=3),
        "polynomial": lambda o: PolynomialLRScheduler(o, total_epochs=10),
    }
    for name, build in builders.items():
        opt = optimizer()
        scheduler = build(opt)
        for _ in range(5):
            opt.step()
            scheduler.step()
        print(f"{name}: lr after 5 steps = {opt.param_groups[0]['lr']:.6f}")
    print("All scheduler tests passed")
