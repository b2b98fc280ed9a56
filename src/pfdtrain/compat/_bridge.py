"""How the legacy trainer adapters configure the one core :class:`pfdtrain.Trainer`.

No adapter runs batches or epochs itself. Each legacy call builds a fresh core Trainer from the
adapter's *current* attributes (model, optimizer, criterion, loaders, scaler, clipping, ...), so
that scripts which reassign ``trainer.val_loader`` or ``trainer.optimizer`` between calls see
the change, and then:

* ``train_epoch()`` -> :meth:`Trainer.run_training_epoch`, ``validate_epoch()`` ->
  :meth:`Trainer.evaluate`;
* ``fit()``/``train()`` -> :meth:`Trainer.fit` with an :class:`EpochBridge` callback that does
  the legacy per-epoch work (history, printed lines, old-style callbacks, schedulers, best-model
  saving) at ``on_train_epoch_end``.

The pieces below reproduce the legacy step exactly: legacy tasks move tensors, apply autocast
and compute accuracy where legacy did; :class:`LegacyPrecision` uses the adapter's own
``scaler``; :class:`ClipModelGrads` clips ``model.parameters()`` with the adapter's
``max_grad_norm``; accumulation uses the core ``GradientAccumulation(k, partial_window="drop")``.
Nothing here draws from a global random generator.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn

from pfdtrain.callbacks.base import Callback
from pfdtrain.compat._exact_accuracy import AccuracyCounts, with_counts
from pfdtrain.compat._exact_accuracy import percent as percent  # for the adapters: B.percent(metrics, key)
from pfdtrain.plugins.accumulation import GradientAccumulation
from pfdtrain.plugins.base import Plugin, PrecisionPlugin
from pfdtrain.tasks.base import StepOutput, Task
from pfdtrain.trainer.trainer import Trainer

_NULL = contextlib.nullcontext()


def new_grad_scaler() -> torch.amp.GradScaler:
    """The GradScaler legacy created (CUDA fp16 loss scaling), without its deprecation warning; disabled on CPU."""
    return torch.amp.GradScaler("cuda", enabled=torch.cuda.is_available())


def legacy_autocast(enabled: bool) -> contextlib.AbstractContextManager:
    """The autocast legacy entered: fp16 on CUDA, a no-op without CUDA."""
    if enabled and torch.cuda.is_available():
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return _NULL


class ProgressLoader:
    """``loader`` seen through a legacy progress bar: ``make_bar(loader)`` (the adapter module's
    ``tqdm`` global, so patching ``training.<module>.tqdm`` replaces it) is called when an epoch
    starts iterating, as legacy built a bar per epoch. The bar's postfix is set once, at the end
    of the epoch (legacy set it every batch, a host sync per batch)."""

    def __init__(self, loader: Any, make_bar: Callable[[Any], Any]) -> None:
        self.loader = loader
        self._make_bar = make_bar
        self.bar: Any = None

    def __iter__(self) -> Any:
        self.bar = self._make_bar(self.loader)
        return iter(self.bar)

    def __len__(self) -> int:
        return len(self.loader)

    def postfix(self, values: Mapping[str, Any]) -> None:
        set_postfix = getattr(self.bar, "set_postfix", None)
        if callable(set_postfix):
            set_postfix(dict(values))


def postfix(loader: Any, values: Mapping[str, Any]) -> None:
    """Set the end-of-epoch postfix when ``loader`` is a :class:`ProgressLoader`."""
    if isinstance(loader, ProgressLoader):
        loader.postfix(values)


def percent_correct(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``correct / batch`` as a float64 0-d tensor (first maximal index, as legacy
    ``outputs.max(1)``); stays on the device."""
    return outputs.argmax(1).eq(targets).mean(dtype=torch.float64)


# ------------------------------------------------------------------------------------ plugins


class LegacyPrecision(PrecisionPlugin):
    """fp16 AMP through the adapter's own ``scaler`` (read at every use); only added when AMP is on.

    Autocast is entered by the legacy tasks themselves (legacy wrapped forward + loss only, and
    not in every validation), so :meth:`autocast` is a no-op here. Without CUDA the scaler is
    disabled and every call below is plain float32, as legacy's was.
    """

    def __init__(self, owner: Any) -> None:
        self.owner = owner

    def autocast(self) -> contextlib.AbstractContextManager:
        return _NULL

    def backward(self, loss: torch.Tensor) -> None:
        self.owner.scaler.scale(loss).backward()

    def unscale_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        if self.owner.max_grad_norm > 0:
            self.owner.scaler.unscale_(optimizer)

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> bool:
        scaler = self.owner.scaler
        scaler.step(optimizer)
        scaler.update()
        return True


class ClipModelGrads(Plugin):
    """``clip_grad_norm_(model.parameters(), owner.max_grad_norm)`` when it is > 0 (legacy clipped
    the model's parameters, not the optimizer's)."""

    def __init__(self, owner: Any, model: Callable[[], nn.Module]) -> None:
        self.owner = owner
        self._model = model

    def on_before_optimizer_step(self, trainer: Trainer, optimizer: torch.optim.Optimizer) -> None:
        max_norm = self.owner.max_grad_norm
        if max_norm > 0:
            trainer.grad_norm = torch.nn.utils.clip_grad_norm_(self._model().parameters(), max_norm)


class KeepGradsAfterStep(Plugin):
    """Leave the last backward's gradients in ``.grad`` after each step (the core clears them).

    Used with :class:`ZeroGradBeforeBackward` by the trainers that called ``zero_grad()`` between
    loss and backward (progressive resizing, distillation): their ``.grad`` after training holds
    the last batch's gradients, as before.
    """

    def __init__(self) -> None:
        self._kept: list[tuple[torch.Tensor, Any]] = []

    def on_before_optimizer_step(self, trainer: Trainer, optimizer: torch.optim.Optimizer) -> None:
        self._kept = [(p, p.grad) for group in optimizer.param_groups for p in group["params"]]

    def on_after_optimizer_step(self, trainer: Trainer) -> None:
        for p, grad in self._kept:
            p.grad = grad
        self._kept = []


class ZeroGradBeforeBackward(Callback):
    """``optimizer.zero_grad()`` between loss and backward, as the legacy loops did."""

    def on_before_backward(self, trainer: Trainer, loss: torch.Tensor) -> None:
        if trainer.optimizer is not None:  # always set once training runs
            trainer.optimizer.zero_grad()


# ------------------------------------------------------------------------------------ tasks


class LegacyTask(Task):
    """A task driven by a legacy adapter; it moves tensors to the device itself (as legacy did)."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner

    def transfer_batch(self, batch: Any, device: torch.device) -> Any:
        return batch

    def training_step(self, model: nn.Module, batch: Any, trainer: Trainer) -> StepOutput:
        return self.step(model, batch, trainer, True)

    def validation_step(self, model: nn.Module, batch: Any, trainer: Trainer) -> StepOutput:
        return self.step(model, batch, trainer, False)

    def step(self, model: nn.Module, batch: Any, trainer: Trainer, training: bool) -> StepOutput:
        raise NotImplementedError


class LegacyClassificationTask(LegacyTask):
    """``inputs, targets = batch`` (anything else fails like legacy: ``ValueError``), the adapter's
    input hook in training (SpecAugment), forward + ``owner.criterion`` under the legacy autocast;
    metrics ``loss`` (batch mean) and ``acc`` (fraction correct, float64).

    Settings are read from the adapter when the task is built (once per legacy call).
    """

    def __init__(self, owner: Any) -> None:
        super().__init__(owner)
        self._transform = owner._train_transform()
        cuda = torch.cuda.is_available()
        self._amp = {True: cuda and bool(owner._autocast_enabled(True)),
                     False: cuda and bool(owner._autocast_enabled(False))}

    def step(self, model: nn.Module, batch: Any, trainer: Trainer, training: bool) -> StepOutput:
        inputs, targets = batch
        device = trainer.device
        inputs, targets = inputs.to(device), targets.to(device)
        if training and self._transform is not None:
            inputs = self._transform(inputs)
        if self._amp[training]:
            with self.owner._autocast():
                outputs = model(inputs)
                loss = self.owner.criterion(outputs, targets)
        else:
            outputs = model(inputs)
            loss = self.owner.criterion(outputs, targets)
        k = self.owner.gradient_accumulation_steps if training else 1
        return StepOutput(loss=loss, batch_size=targets.size(0),
                          metrics={"loss": reported_loss(loss, k), "acc": percent_correct(outputs, targets)})


def reported_loss(loss: torch.Tensor, accumulation: int) -> torch.Tensor:
    """The batch loss the legacy loops summed: ``(loss / k).item() * k``. The float32 division
    rounds when ``k`` is not a power of two, so the reported epoch loss differs from the mean of
    the undivided losses in the last bits; this keeps legacy's value."""
    loss = loss.detach()
    if accumulation == 1:
        return loss
    return (loss / accumulation).to(torch.float64) * accumulation


def legacy_step_plugins(owner: Any, model: Callable[[], nn.Module], amp: bool) -> list[Plugin]:
    """Plugins of the legacy Trainer-family step: the adapter's GradScaler (only when AMP is on;
    fp32 takes the core's plain path), legacy accumulation windows, clipping of the model."""
    plugins: list[Plugin] = [legacy_accumulation(owner.gradient_accumulation_steps)]
    if amp:
        plugins.insert(0, LegacyPrecision(owner))
    if owner.max_grad_norm > 0:
        plugins.append(ClipModelGrads(owner, model))
    return plugins


# ------------------------------------------------------------------------------------ epochs


class EpochBridge(Callback):
    """Runs the adapter's legacy per-epoch work inside the core loop.

    ``start(core, epoch)`` at ``on_train_epoch_start`` and ``end(core, epoch)`` at
    ``on_train_epoch_end`` (after validation); ``epoch`` is ``first_epoch + core.current_epoch``.
    ``loaders()`` (optional) returns the adapter's current ``(train_loader, val_loader)``, read
    at every epoch start so that reassigning them between epochs works as it did.
    """

    def __init__(self, start: Callable[[Trainer, int], None] | None, end: Callable[[Trainer, int], None],
                 first_epoch: int = 0, loaders: Callable[[], tuple[Any, Any]] | None = None) -> None:
        self._start, self._end, self.first_epoch, self._loaders = start, end, first_epoch, loaders

    def on_train_epoch_start(self, trainer: Trainer) -> None:
        if self._loaders is not None:
            trainer.train_dataloader, trainer.val_dataloader = self._loaders()
        if self._start is not None:
            self._start(trainer, self.first_epoch + trainer.current_epoch)

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        self._end(trainer, self.first_epoch + trainer.current_epoch)


def build_core(model: nn.Module, optimizer: Any, task: Task, plugins: Iterable[Plugin] = (),
               callbacks: Iterable[Callback] = (), max_epochs: int = 0, device: Any = "cpu") -> Trainer:
    """A core Trainer for one legacy call: no progress bar, no seeding, non-finite losses pass
    through unchecked (legacy trained on), the optimizer taken as given (legacy accepted
    optimizers holding parameters outside the model), exact accuracy counts in its epoch dicts."""
    counts = AccuracyCounts()
    core = LegacyCore(
        model,
        (lambda _params: optimizer) if optimizer is not None else _missing_optimizer,
        task=task,
        plugins=list(plugins),
        callbacks=[counts, *callbacks],
        max_epochs=max_epochs,
        device=device,
        enable_progress_bar=False,
        on_nonfinite="ignore",
    )
    core.accuracy_counts = counts
    return core


class LegacyCore(Trainer):
    """The core Trainer as an adapter drives it: the epoch dicts of :meth:`run_training_epoch`
    and :meth:`evaluate` also carry the exact accuracy counts (:func:`percent` reads them)."""

    accuracy_counts: AccuracyCounts | None = None

    def run_training_epoch(self, loader: Iterable) -> dict[str, Any]:
        if self.accuracy_counts is not None:
            self.accuracy_counts.reset("train")
        return with_counts(super().run_training_epoch(loader), self.accuracy_counts, "train")

    def evaluate(self, loader: Iterable, prefix: str = "val") -> dict[str, Any]:
        return with_counts(super().evaluate(loader, prefix), self.accuracy_counts, prefix)


def _missing_optimizer(_params: Any) -> Any:
    # legacy failed at the first optimizer step with this message
    raise AttributeError("'NoneType' object has no attribute 'step'")


def overridden(obj: Any, *names: str) -> bool:
    """True when a class outside :mod:`pfdtrain.compat` redefines one of ``names`` on ``obj``.

    Legacy ``fit`` called ``self.train_epoch()``/``self.validate_epoch()``; when a user subclass
    overrides them, the adapters' ``fit`` calls the overrides at each core epoch start and gives
    the core an empty epoch (epoch counting, stopping and the legacy bookkeeping stay in the core).
    """
    for name in names:
        fn = getattr(type(obj), name, None)
        if fn is not None and not str(getattr(fn, "__module__", "")).startswith("pfdtrain.compat"):
            return True
    return False


def hand_epoch_to_user(core: Trainer) -> None:
    """The core runs no batches this epoch: the adapter's overridden epoch methods did the work."""
    core.train_dataloader, core.val_dataloader = (), None


def legacy_accumulation(k: int) -> GradientAccumulation:
    """Legacy windows: every loss / k, a short last window neither stepped nor cleared, no
    ``zero_grad`` before the first batch."""
    return GradientAccumulation(k, partial_window="drop")


def last_row(core: Trainer) -> dict[str, Any]:
    """The ``train_*``/``val_*`` values of the epoch the core just finished (with exact accuracy counts)."""
    row = {k: v[-1] for k, v in core.history.items()
           if v and v[-1] is not None and k.startswith(("train_", "val_"))}
    return with_counts(row, getattr(core, "accuracy_counts", None), "train", "val")


def require(metrics: Mapping[str, Any], key: str) -> Any:
    """``metrics[key]``; an epoch without batches failed in legacy with this ZeroDivisionError."""
    try:
        return metrics[key]
    except KeyError:
        raise ZeroDivisionError("float division by zero") from None




class BatchMeanTask(LegacyTask):
    """Progressive resizing / distillation steps: losses averaged over *batches* (legacy divided
    the sum of batch means by ``len(loader)``), accuracy over samples.

    Each batch is weighted 1 (``batch_size=1`` for the core's sample-weighted means); ``correct``
    and ``count`` give ``accuracy = 100 * sum(correct) / sum(count)``.
    """

    def step(self, model: nn.Module, batch: Any, trainer: Trainer, training: bool) -> StepOutput:
        inputs, labels = batch
        device = trainer.device
        inputs, labels = inputs.to(device), labels.to(device)
        outputs, loss, extra = self.forward(model, inputs, labels)
        _, predicted = outputs.detach().max(1)
        metrics = {"loss": loss.detach(), **extra,
                   "correct": predicted.eq(labels).sum(dtype=torch.float64),
                   "count": torch.tensor(float(labels.size(0)), dtype=torch.float64)}
        return StepOutput(loss=loss, batch_size=1, metrics=metrics)

    def forward(self, model: nn.Module, inputs: torch.Tensor,
                labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        outputs = model(inputs)
        return outputs, self.owner.criterion(outputs, labels), {}


def batch_mean_metrics(core_metrics: Mapping[str, Any], prefix: str, extra: Iterable[str] = ()) -> dict[str, float]:
    """``{prefix}_loss``, extra means, ``{prefix}_accuracy`` (percent) from a BatchMeanTask epoch."""
    out = {f"{prefix}_loss": require(core_metrics, f"{prefix}_loss")}
    for name in extra:
        out[f"{prefix}_{name}"] = require(core_metrics, f"{prefix}_{name}")
    counts = core_metrics.get(f"{prefix}_correct@counts")
    if counts is not None:  # exact counts (see _exact_accuracy): legacy 100. * correct / total
        out[f"{prefix}_accuracy"] = 100.0 * counts[0] / counts[1]
    else:
        out[f"{prefix}_accuracy"] = 100.0 * require(core_metrics, f"{prefix}_correct") / require(
            core_metrics, f"{prefix}_count")
    return out


def plain_step_core(model: nn.Module, optimizer: Any, task: Task, device: Any, max_epochs: int = 0,
                    callbacks: Iterable[Callback] = ()) -> Trainer:
    """Core Trainer for loops that did ``zero_grad(); backward(); step()`` per batch: no
    clipping, accumulation or AMP, gradients of the last batch left in ``.grad``."""
    return build_core(model, optimizer, task, [legacy_accumulation(1), KeepGradsAfterStep()],
                      [ZeroGradBeforeBackward(), *callbacks], max_epochs=max_epochs, device=device)
