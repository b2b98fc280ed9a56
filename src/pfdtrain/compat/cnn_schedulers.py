"""Legacy ``training.cnn_schedulers``: scheduler factories, ``WarmupScheduler``,
``PolynomialLRScheduler`` and the ``test_schedulers`` self-test.

The factories call this module's torch scheduler classes (``CosineAnnealingLR``, ... : the names
legacy imported, so ``mock.patch("training.cnn_schedulers.StepLR")`` takes effect) with legacy's
keywords, and log legacy's INFO line on ``training.cnn_schedulers``; torch validates the values
and raises its own errors. Kept quirks: ``create_plateau_scheduler`` passes ``verbose=True``,
which this torch rejects (``TypeError``), so ``test_schedulers`` fails there as legacy's did;
``WarmupScheduler`` starts at ``base_lr / warmup_epochs``, then returns the base scheduler's last
lr and steps it (any base, even one that needs a metric: it fails when stepped);
``PolynomialLRScheduler`` holds at ``end_lr`` (default 1e-6). New code:
``pfdtrain.optim.create_scheduler`` / ``LinearWarmup`` / ``PolynomialDecayLR``.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LRScheduler,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
    _LRScheduler,
)

from pfdtrain.compat._legacy_names import Optional, get_logger
from pfdtrain.optim import PolynomialDecayLR

__all__ = [
    # module-level names of the legacy module (served as training.cnn_schedulers.<name>)
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "OneCycleLR",
    "Optimizer",
    "Optional",
    "PolynomialLRScheduler",
    "ReduceLROnPlateau",
    "StepLR",
    "WarmupScheduler",
    "_LRScheduler",
    "create_cosine_scheduler",
    "create_cosine_warmrestarts_scheduler",
    "create_exponential_scheduler",
    "create_onecycle_scheduler",
    "create_plateau_scheduler",
    "create_step_scheduler",
    "get_logger",
    "logger",
    "math",
    "test_schedulers",
    "torch",
]

logger = get_logger("training.cnn_schedulers")


def create_cosine_scheduler(optimizer: Optimizer, num_epochs: int, eta_min: float = 1e-6,
                            last_epoch: int = -1) -> CosineAnnealingLR:
    scheduler = CosineAnnealingLR(optimizer, T_max=num_epochs, eta_min=eta_min, last_epoch=last_epoch)
    logger.info(f"Cosine annealing scheduler created: T_max={num_epochs}, eta_min={eta_min}")
    return scheduler


def create_cosine_warmrestarts_scheduler(optimizer: Optimizer, T_0: int = 10, T_mult: int = 2,
                                         eta_min: float = 1e-6,
                                         last_epoch: int = -1) -> CosineAnnealingWarmRestarts:
    scheduler = CosineAnnealingWarmRestarts(optimizer, T_0=T_0, T_mult=T_mult, eta_min=eta_min, last_epoch=last_epoch)
    logger.info(f"Cosine annealing with warm restarts: T_0={T_0}, T_mult={T_mult}")
    return scheduler


def create_onecycle_scheduler(optimizer: Optimizer, max_lr: float, total_steps: int, pct_start: float = 0.3,
                              anneal_strategy: str = "cos", div_factor: float = 25.0,
                              final_div_factor: float = 1e4) -> OneCycleLR:
    scheduler = OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                           anneal_strategy=anneal_strategy,  # type: ignore[arg-type]  # torch checks the value
                           div_factor=div_factor, final_div_factor=final_div_factor)
    logger.info(f"OneCycle scheduler: max_lr={max_lr}, total_steps={total_steps}")
    return scheduler


def create_step_scheduler(optimizer: Optimizer, step_size: int = 10, gamma: float = 0.1,
                          last_epoch: int = -1) -> StepLR:
    scheduler = StepLR(optimizer, step_size=step_size, gamma=gamma, last_epoch=last_epoch)
    logger.info(f"Step scheduler: step_size={step_size}, gamma={gamma}")
    return scheduler


def create_exponential_scheduler(optimizer: Optimizer, gamma: float = 0.95, last_epoch: int = -1) -> ExponentialLR:
    scheduler = ExponentialLR(optimizer, gamma=gamma, last_epoch=last_epoch)
    logger.info(f"Exponential scheduler: gamma={gamma}")
    return scheduler


def create_plateau_scheduler(optimizer: Optimizer, mode: str = "max", factor: float = 0.1, patience: int = 10,
                             threshold: float = 1e-4, min_lr: float = 1e-6) -> ReduceLROnPlateau:
    # verbose=True as legacy passed it: torch >= 2.7 rejects the keyword (TypeError), as it did for legacy
    scheduler = ReduceLROnPlateau(optimizer, mode=mode,  # type: ignore[arg-type]  # torch checks the value
                                  factor=factor, patience=patience, threshold=threshold, min_lr=min_lr,
                                  verbose=True)  # type: ignore[call-arg]  # the legacy keyword, kept
    logger.info(f"ReduceLROnPlateau scheduler: mode={mode}, patience={patience}, factor={factor}")
    return scheduler


class WarmupScheduler(LRScheduler):
    """Linear warm-up over ``warmup_epochs`` (first lr ``base_lr / warmup_epochs``), then the
    ``base_scheduler``'s last lr, stepping it after each own step (legacy semantics, kept)."""

    def __init__(self, optimizer: Optimizer, warmup_epochs: int, base_scheduler: Optional[LRScheduler] = None,
                 last_epoch: int = -1) -> None:
        self.warmup_epochs = warmup_epochs
        self.base_scheduler = base_scheduler
        super().__init__(optimizer, last_epoch)
        logger.info(f"Warmup scheduler: warmup_epochs={warmup_epochs}")

    def get_lr(self) -> list[float | torch.Tensor]:
        if self.last_epoch < self.warmup_epochs:
            factor = (self.last_epoch + 1) / self.warmup_epochs
            return [base_lr * factor for base_lr in self.base_lrs]
        if self.base_scheduler is not None:
            return list(self.base_scheduler.get_last_lr())
        return list(self.base_lrs)

    def step(self, epoch: Optional[int] = None) -> None:
        super().step(epoch)
        if self.base_scheduler is not None and self.last_epoch >= self.warmup_epochs:
            self.base_scheduler.step()


class PolynomialLRScheduler(PolynomialDecayLR):
    def __init__(self, optimizer: Optimizer, total_epochs: int, power: float = 1.0, end_lr: float = 1e-6,
                 last_epoch: int = -1) -> None:
        self.total_epochs = total_epochs
        super().__init__(optimizer, total_epochs, power=power, end_lr=end_lr, last_epoch=last_epoch)
        logger.info(f"Polynomial scheduler: total_epochs={total_epochs}, power={power}")


# ------------------------------------------------------------------------------------ self-test


def _lrs(optimizer: Optimizer, scheduler: LRScheduler, steps: int) -> list[float]:
    """The lr of group 0 before each of ``steps`` scheduler steps."""
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        scheduler.step()
    return out


def _fmt(values: list[float]) -> list[str]:
    return [f"{v:.6f}" for v in values]


def test_schedulers() -> None:
    """Legacy self-test: each factory/class on a ``Linear(10, 1)``'s Adam (SGD for OneCycle), with
    legacy's printed lines and checks. Step 6 fails with torch's ``TypeError`` (``verbose``), as
    legacy's did on this torch."""
    print("=" * 60)
    print("Testing LR Schedulers")
    print("=" * 60)
    model = torch.nn.Linear(10, 1)

    def adam() -> Optimizer:
        return torch.optim.Adam(model.parameters(), lr=1e-3)

    print("\n1. Testing Cosine Annealing...")
    optimizer = adam()
    lrs = _lrs(optimizer, create_cosine_scheduler(optimizer, num_epochs=10), 10)
    print(f"   LR progression: {_fmt(lrs[:5])}...")
    assert lrs[0] > lrs[-1], "LR should decrease"

    print("\n2. Testing Cosine with Warm Restarts...")
    optimizer = adam()
    lrs = _lrs(optimizer, create_cosine_warmrestarts_scheduler(optimizer, T_0=5), 15)
    print(f"   LR with restarts: {_fmt(lrs[:10])}...")
    assert lrs[5] > lrs[4], "LR should restart"

    print("\n3. Testing OneCycle...")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    lrs = _lrs(optimizer, create_onecycle_scheduler(optimizer, max_lr=0.1, total_steps=100), 100)
    print(f"   LR range: {min(lrs):.6f} → {max(lrs):.6f} → {lrs[-1]:.6f}")
    assert max(lrs[:len(lrs) // 2]) > lrs[0], "LR should increase initially"
    assert lrs[-1] < max(lrs), "LR should decrease at end"

    print("\n4. Testing Step Decay...")
    optimizer = adam()
    lrs = _lrs(optimizer, create_step_scheduler(optimizer, step_size=3, gamma=0.1), 10)
    print(f"   LR steps: {_fmt(lrs)}...")
    assert lrs[0] == lrs[2], "LR constant before step"
    assert lrs[3] < lrs[2], "LR drops at step boundary"

    print("\n5. Testing Exponential Decay...")
    optimizer = adam()
    lrs = _lrs(optimizer, create_exponential_scheduler(optimizer, gamma=0.9), 5)
    print(f"   LR decay: {_fmt(lrs)}...")
    assert all(a > b for a, b in itertools.pairwise(lrs)), "LR should decrease monotonically"

    print("\n6. Testing ReduceLROnPlateau...")
    optimizer = adam()
    plateau = create_plateau_scheduler(optimizer, mode="max", patience=2)
    initial_lr = optimizer.param_groups[0]["lr"]
    for accuracy in (85.0, 86.0, 86.1, 86.05, 86.08, 86.1, 86.12):
        plateau.step(accuracy)
    print(f"   LR: {initial_lr:.6f} → {optimizer.param_groups[0]['lr']:.6f}")

    print("\n7. Testing Warmup Scheduler...")
    optimizer = adam()
    base = CosineAnnealingLR(optimizer, T_max=10)
    lrs = _lrs(optimizer, WarmupScheduler(optimizer, warmup_epochs=3, base_scheduler=base), 10)
    print(f"   LR with warmup: {_fmt(lrs)}...")
    assert lrs[0] < lrs[2], "LR should increase during warmup"

    print("\n8. Testing Polynomial Scheduler...")
    optimizer = adam()
    lrs = _lrs(optimizer, PolynomialLRScheduler(optimizer, total_epochs=10, power=2.0), 10)
    print(f"   Polynomial LR: {_fmt(lrs[:5])}...")
    assert lrs[0] > lrs[-1], "LR should decrease"

    print("\n" + "=" * 60)
    print("✅ All scheduler tests passed!")
    print("=" * 60)


def _legacy_main() -> None:
    """``python -m training.cnn_schedulers``."""
    test_schedulers()
