"""Optimizers, parameter groups and learning-rate schedulers: one factory each."""

from pfdtrain.optim.factors import (
    Noam,
    WarmupCosine,
    WarmupLinear,
    noam_factor,
    warmup_cosine_factor,
    warmup_linear_factor,
)
from pfdtrain.optim.factory import SCHEDULERS, create_scheduler
from pfdtrain.optim.optimizers import OPTIMIZERS, create_optimizer, get_lr, set_lr
from pfdtrain.optim.param_groups import NORM_TYPES, default_no_decay, parameter_groups
from pfdtrain.optim.schedulers import LinearWarmup, NoamLR, PolynomialDecayLR, WarmupCosineLR, WarmupLinearLR

__all__ = [
    "NORM_TYPES",
    "OPTIMIZERS",
    "SCHEDULERS",
    "LinearWarmup",
    "Noam",
    "NoamLR",
    "PolynomialDecayLR",
    "WarmupCosine",
    "WarmupCosineLR",
    "WarmupLinear",
    "WarmupLinearLR",
    "create_optimizer",
    "create_scheduler",
    "default_no_decay",
    "get_lr",
    "noam_factor",
    "parameter_groups",
    "set_lr",
    "warmup_cosine_factor",
    "warmup_linear_factor",
]
