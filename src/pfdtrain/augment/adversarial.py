"""FGSM adversarial examples (Goodfellow et al. 2015)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def fgsm(
    model: nn.Module,
    signal: torch.Tensor,
    labels: torch.Tensor,
    epsilon: float = 0.01,
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    *,
    restore_mode: bool = True,
    param_grads: bool = False,
) -> torch.Tensor:
    """``x + epsilon * sign(d loss / d x)``, detached and unclamped; soft labels are argmax-ed.

    The model runs in ``eval()`` mode. By default its previous mode is restored and its
    parameters' ``.grad`` are left untouched (the gradient is taken w.r.t. the input only);
    ``restore_mode=False, param_grads=True`` reproduce legacy's side effects (model left in eval
    mode, parameter gradients populated).
    """
    criterion = criterion if criterion is not None else nn.CrossEntropyLoss()
    was_training = model.training
    model.eval()
    x = signal.clone().detach().requires_grad_(True)
    if labels.dim() > 1:
        labels = labels.argmax(dim=1)
    loss = criterion(model(x), labels)
    if param_grads:
        loss.backward()
        grad = x.grad
        if grad is None:  # cannot happen for a model that reads its input; says so if it does not
            raise RuntimeError("fgsm: the loss does not depend on the input signal, so it has no gradient.")
    else:
        (grad,) = torch.autograd.grad(loss, [x])
    if restore_mode:
        model.train(was_training)
    return (x + epsilon * grad.sign()).detach()
