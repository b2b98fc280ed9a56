"""Legacy ``training.cnn_optimizer`` on top of :mod:`pfdtrain.optim`.

Kept quirks: ``create_optimizer(optimizer_type, model_params, ...)`` lower-cases the type (and
shows it lower-cased in the error), forwards only ``betas`` (adamw/adam), ``momentum`` /
``nesterov`` (sgd) and ``alpha`` (rmsprop), silently dropping every other keyword (``eps``,
RMSprop ``momentum``); its ``lr=1e-3`` default applies to SGD too. ``get_parameter_groups`` picks
the no-decay group by the *substrings* ``bias``, ``bn``, ``norm`` of the dotted name, keeps empty
groups, and with ``no_decay_bias=False`` returns one group holding the ``model.parameters()``
generator (frozen parameters included).
"""

from __future__ import annotations

import torch
from torch import optim

from pfdtrain.compat._legacy_names import Any, Dict, Iterable, Optional, get_logger
from pfdtrain.optim import parameter_groups

__all__ = [
    # module-level names of the legacy module (served as training.cnn_optimizer.<name>)
    "Any",
    "Dict",
    "Iterable",
    "OptimizerConfig",
    "Optional",
    "create_adamw_optimizer",
    "create_optimizer",
    "create_rmsprop_optimizer",
    "create_sgd_optimizer",
    "get_parameter_groups",
    "logger",
    "optim",
    "test_optimizers",
    "torch",
]

logger = get_logger("training.cnn_optimizer")


# The builders call this module's ``optim`` (torch.optim) with legacy's keywords: torch checks the
# values and raises its own errors; patching training.cnn_optimizer.optim reaches them.


def create_adamw_optimizer(model_params: Any, lr: float = 1e-3, weight_decay: float = 1e-4, betas: Any = (0.9, 0.999),
                           eps: Any = 1e-8) -> Any:
    return optim.AdamW(params=model_params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def create_sgd_optimizer(model_params: Any, lr: float = 1e-2, momentum: Any = 0.9, weight_decay: float = 1e-4,
                         nesterov: Any = True) -> Any:
    return optim.SGD(params=model_params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)


def create_rmsprop_optimizer(model_params: Any, lr: float = 1e-3, alpha: Any = 0.99, eps: Any = 1e-8,
                             weight_decay: float = 1e-4, momentum: Any = 0.0) -> Any:
    return optim.RMSprop(params=model_params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum)


def create_optimizer(optimizer_type: str, model_params: Any, lr: float = 1e-3, weight_decay: float = 1e-4,
                     **kwargs: Any) -> Any:
    optimizer_type = optimizer_type.lower()
    if optimizer_type == "adamw":
        return create_adamw_optimizer(model_params=model_params, lr=lr, weight_decay=weight_decay,
                                      betas=kwargs.get("betas", (0.9, 0.999)))
    if optimizer_type == "sgd":
        return create_sgd_optimizer(model_params=model_params, lr=lr, momentum=kwargs.get("momentum", 0.9),
                                    weight_decay=weight_decay, nesterov=kwargs.get("nesterov", True))
    if optimizer_type == "rmsprop":
        return create_rmsprop_optimizer(model_params=model_params, lr=lr, alpha=kwargs.get("alpha", 0.99),
                                        weight_decay=weight_decay)
    if optimizer_type == "adam":
        return optim.Adam(params=model_params, lr=lr, betas=kwargs.get("betas", (0.9, 0.999)),
                          weight_decay=weight_decay)
    raise ValueError(f"Unknown optimizer type: {optimizer_type}. Choose from: adamw, sgd, rmsprop, adam")


class OptimizerConfig:
    """Preset keyword sets for :func:`create_optimizer`."""

    @staticmethod
    def default() -> Any:
        return {"optimizer_type": "adamw", "lr": 1e-3, "weight_decay": 1e-4, "betas": (0.9, 0.999)}

    @staticmethod
    def fast_convergence() -> Any:
        return {"optimizer_type": "adamw", "lr": 3e-3, "weight_decay": 1e-4, "betas": (0.9, 0.999)}

    @staticmethod
    def strong_regularization() -> Any:
        return {"optimizer_type": "adamw", "lr": 1e-3, "weight_decay": 1e-3, "betas": (0.9, 0.999)}

    @staticmethod
    def sgd_baseline() -> Any:
        return {"optimizer_type": "sgd", "lr": 1e-2, "momentum": 0.9, "weight_decay": 1e-4, "nesterov": True}


def _substring_rule(name: Any, param: Any, module: Any) -> Any:
    return any(part in name for part in ("bias", "bn", "norm"))


def get_parameter_groups(model: Any, lr: float = 1e-3, weight_decay: float = 1e-4, no_decay_bias: bool = True) -> Any:
    if not no_decay_bias:
        return [{"params": model.parameters(), "lr": lr, "weight_decay": weight_decay}]
    return parameter_groups(model, weight_decay, lr, no_decay=_substring_rule, keep_empty=True)


def test_optimizers() -> None:
    """Legacy self-test on the legacy repository's ``CNN1D`` (``models.cnn.cnn_1d``) when it is
    importable, else on a small 1-D CNN stand-in; legacy's printed lines and checks."""
    from pfdtrain.compat._legacy_names import NUM_CLASSES, SIGNAL_LENGTH, legacy_model, small_signal_cnn

    print("=" * 60)
    print("Testing CNN Optimizers")
    print("=" * 60)
    model = legacy_model("models.cnn.cnn_1d", "CNN1D", small_signal_cnn, num_classes=NUM_CLASSES)

    print("\n1. Testing AdamW optimizer...")
    optimizer = create_adamw_optimizer(model.parameters(), lr=1e-3)
    print(f"   Created: {type(optimizer).__name__}")
    print(f"   LR: {optimizer.param_groups[0]['lr']}")
    print(f"   Weight decay: {optimizer.param_groups[0]['weight_decay']}")

    print("\n2. Testing SGD optimizer...")
    optimizer = create_sgd_optimizer(model.parameters(), lr=1e-2)
    print(f"   Created: {type(optimizer).__name__}")
    print(f"   Momentum: {optimizer.param_groups[0]['momentum']}")
    print(f"   Nesterov: {optimizer.param_groups[0]['nesterov']}")

    print("\n3. Testing RMSprop optimizer...")
    print(f"   Created: {type(create_rmsprop_optimizer(model.parameters())).__name__}")

    print("\n4. Testing create_optimizer factory...")
    first = create_optimizer("adamw", model.parameters(), lr=1e-3)
    second = create_optimizer("sgd", model.parameters(), lr=1e-2)
    print(f"   Created: {type(first).__name__}, {type(second).__name__}")

    print("\n5. Testing OptimizerConfig presets...")
    print(f"   Default config: {OptimizerConfig.default()}")
    print(f"   Fast config: lr={OptimizerConfig.fast_convergence()['lr']}")

    print("\n6. Testing parameter groups...")
    groups = get_parameter_groups(model, lr=1e-3, weight_decay=1e-4)
    print(f"   Number of groups: {len(groups)}")
    print(f"   Group 0 (decay): {len(groups[0]['params'])} params")
    print(f"   Group 1 (no decay): {len(groups[1]['params'])} params")

    print("\n7. Testing optimizer step...")
    optimizer = create_adamw_optimizer(model.parameters(), lr=1e-3)
    output = model(torch.randn(8, 1, SIGNAL_LENGTH))
    loss = torch.nn.functional.cross_entropy(output, torch.randint(0, 11, (8,)))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print("   Optimizer step completed successfully")

    print("\n" + "=" * 60)
    print("✅ All optimizer tests passed!")
    print("=" * 60)


def _legacy_main() -> None:
    """``python -m training.cnn_optimizer``."""
    test_optimizers()
