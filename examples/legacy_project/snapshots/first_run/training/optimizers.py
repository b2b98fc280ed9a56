"""The first run's optimizer factory: older than the legacy package's, it builds plain SGD and
passes other keywords straight to torch (no deprecation warning, no Adam default)."""

import torch


def create_optimizer(model_params, optimizer_name="sgd", lr=0.05, **kwargs):
    if optimizer_name != "sgd":
        raise ValueError(f"the first run only used sgd, not {optimizer_name!r}")
    return torch.optim.SGD(model_params, lr=lr, **kwargs)
