"""Mixed precision with ``torch.amp``: "32", "16-mixed" (fp16 + GradScaler) or "bf16-mixed"."""

from __future__ import annotations

import contextlib
import warnings
from typing import TYPE_CHECKING, Any

import torch

from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins.base import PrecisionPlugin

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer

PRECISIONS = ("32", "16-mixed", "bf16-mixed")
_ALIASES = {"32-true": "32", "fp32": "32", "16": "16-mixed", "fp16": "16-mixed", "bf16": "bf16-mixed"}


class MixedPrecision(PrecisionPlugin):
    """Autocast forward and loss; fp16 scales the loss with a GradScaler whose state is checkpointed.

    fp16 needs CUDA: on a machine without it this plugin falls back to fp32 with one warning,
    so a script written for a GPU still runs on a laptop. bf16 runs on CPU and CUDA.
    """

    def __init__(self, precision: str = "16-mixed", init_scale: float = 2.0**16, growth_interval: int = 2000,
                 allow_fp16_on_cpu: bool = False) -> None:
        precision = _ALIASES.get(str(precision), str(precision))
        if precision not in PRECISIONS:
            raise ConfigurationError(
                f"precision must be one of {list(PRECISIONS)}; received {precision!r}."
            )
        self.requested = precision
        self.precision = precision
        self.init_scale = init_scale
        self.growth_interval = growth_interval
        #: Run fp16 autocast and the GradScaler on CPU (slow; lets tests exercise the scaler path).
        self.allow_fp16_on_cpu = allow_fp16_on_cpu
        self.device_type = "cpu"
        self.scaler: torch.amp.GradScaler | None = None
        self._pending_state: dict[str, Any] | None = None

    def setup(self, trainer: Trainer) -> None:
        self.device_type = trainer.device.type
        if self.requested == "16-mixed" and self.device_type != "cuda" and not self.allow_fp16_on_cpu:
            if self.precision == "16-mixed":
                warnings.warn(
                    f"precision='16-mixed' needs CUDA, but the trainer runs on {trainer.device}; "
                    "training in fp32 instead (use 'bf16-mixed' for mixed precision on CPU).",
                    UserWarning,
                    stacklevel=2,
                )
            self.precision = "32"
        if self.precision == "16-mixed":
            refusing = [type(p).__name__ for p in trainer.plugins if not getattr(p, "supports_grad_scaling", True)]
            if refusing:
                raise ConfigurationError(
                    f"precision='16-mixed' scales gradients with a GradScaler, which {', '.join(refusing)} "
                    "cannot handle. Use precision='bf16-mixed' (no scaling needed) or remove that plugin."
                )
        if self.precision == "16-mixed" and self.scaler is None:
            self.scaler = torch.amp.GradScaler(
                self.device_type, init_scale=self.init_scale, growth_interval=self.growth_interval
            )
            if self._pending_state:
                self.scaler.load_state_dict(self._pending_state)
                self._pending_state = None

    @property
    def dtype(self) -> torch.dtype | None:
        return {"16-mixed": torch.float16, "bf16-mixed": torch.bfloat16}.get(self.precision)

    def autocast(self) -> contextlib.AbstractContextManager[object]:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor) -> None:
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
        else:
            loss.backward()

    def unscale_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> bool:
        if self.scaler is None:
            optimizer.step()
            return True
        self.scaler.step(optimizer)  # skips the step when the unscaled gradients are not finite
        self.scaler.update()
        return True

    def skip_step(self, optimizer: torch.optim.Optimizer) -> None:
        if self.scaler is not None:
            self.scaler.update()

    def state_dict(self) -> dict[str, Any]:
        return dict(self.scaler.state_dict()) if self.scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        if self.scaler is not None:
            self.scaler.load_state_dict(state)
        else:
            self._pending_state = dict(state)
