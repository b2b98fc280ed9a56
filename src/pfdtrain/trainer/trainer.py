"""The one training loop of pfdtrain.

Reading guide: :meth:`Trainer.fit` runs epochs; :meth:`Trainer._train_epoch` runs batches;
:meth:`Trainer._train_batch` is one forward/backward and, at the end of an accumulation window,
one optimizer step. Extension points are marked ``# hook:`` (callbacks), ``# plugin:`` and
``# task:``. Everything else is bookkeeping for metrics, scheduling and exact resume.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pfdtrain.callbacks.base import Callback, CallbackList
from pfdtrain.errors import ConfigurationError
from pfdtrain.history import History
from pfdtrain.plugins.base import DistributedPlugin, Plugin, PrecisionPlugin
from pfdtrain.seed import seed_everything
from pfdtrain.tasks.base import StepOutput, Task
from pfdtrain.tasks.classification import ClassificationTask
from pfdtrain.trainer import arguments, checkpointing
from pfdtrain.trainer.accumulator import MetricAccumulator
from pfdtrain.trainer.devices import resolve_device
from pfdtrain.trainer.nonfinite import NonFiniteGuard, NonFinitePolicy
from pfdtrain.trainer.scheduling import Interval, SchedulerConfig, SchedulerLike, build_scheduler_config

OptimizerLike = torch.optim.Optimizer | Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
DEFAULT_MAX_EPOCHS = 1000


class Trainer:
    """Train ``model`` with ``task`` (classification by default), composed plugins and callbacks.

    Args:
        model: the network; moved to ``device``.
        optimizer: an optimizer over ``model``'s parameters, or a factory ``f(params)``.
        scheduler: an LR scheduler, a factory ``f(optimizer)``, or a dict with ``scheduler``,
            ``interval`` and ``monitor``.
        scheduler_interval: ``"epoch"`` (after validation) or ``"step"`` (after each optimizer step).
        scheduler_monitor: metric a plateau scheduler is stepped with (default ``val_loss`` when
            validating, else ``train_loss``).
        task: what a batch means and what the loss is (:class:`ClassificationTask` by default).
        plugins: how a step runs (precision, accumulation, clipping, EMA, DDP...).
        callbacks: observers run in the order given (checkpoint writers run last, so that a
            checkpoint holds every other callback's state for the same moment).
        max_epochs / max_steps: stop after whichever comes first (``max_steps`` counts optimizer
            steps). With neither, training runs for 1000 epochs.
        device: ``"cpu"``, ``"cuda"``, a ``torch.device``, or ``None`` for automatic.
        seed: seeds every RNG at the start of ``fit`` (not on resume, where RNG states are restored).
        default_root_dir: where callbacks write by default.
        enable_progress_bar: add a progress bar unless a callback already provides one.
        on_nonfinite: what a NaN/inf loss does: ``"raise"``, ``"skip"`` the optimizer step,
            ``"stop"`` training cleanly, or ``"ignore"`` (no check at all: train on, as plain
            loops do). ``"raise"`` and ``"stop"`` check the losses every ``log_every_n_steps``
            optimizer steps and at the end of each epoch, so that no step waits for the device;
            ``"skip"`` has to read every loss as it comes (one sync a step).
        check_val_every_n_epoch: validate on every n-th epoch.
        log_every_n_steps: how often step-level values are made available to callbacks.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: OptimizerLike | None = None,
        *,
        scheduler: SchedulerLike | None = None,
        scheduler_interval: Interval = "epoch",
        scheduler_monitor: str | None = None,
        task: Task | None = None,
        plugins: Sequence[Plugin] = (),
        callbacks: Sequence[Callback] = (),
        max_epochs: int | None = None,
        max_steps: int | None = None,
        device: str | torch.device | None = None,
        seed: int | None = None,
        default_root_dir: str | Path = "pfdtrain_runs",
        enable_progress_bar: bool = True,
        on_nonfinite: NonFinitePolicy = "raise",
        check_val_every_n_epoch: int = 1,
        log_every_n_steps: int = 50,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise arguments.unknown_argument_error(type(self), unknown)
        if not isinstance(model, nn.Module):
            raise ConfigurationError(
                f"Trainer needs an nn.Module as model; received {type(model).__name__}."
            )
        arguments.check_positive("max_epochs", max_epochs, allow_none=True, allow_zero=True)
        arguments.check_positive("max_steps", max_steps, allow_none=True, allow_zero=True)
        arguments.check_positive("check_val_every_n_epoch", check_val_every_n_epoch)
        arguments.check_positive("log_every_n_steps", log_every_n_steps)
        nonfinite = NonFiniteGuard(on_nonfinite)
        if task is not None and not isinstance(task, Task):
            raise ConfigurationError(
                f"task must be a pfdtrain.tasks.Task (e.g. ClassificationTask(criterion=...)); "
                f"received {type(task).__name__}. To change only the loss, pass "
                "task=ClassificationTask(criterion=your_loss)."
            )
        self.device = resolve_device(device)
        self.model = model
        self._optimizer_arg = optimizer
        self._scheduler_arg = scheduler
        self._scheduler_interval = scheduler_interval
        self._scheduler_monitor = scheduler_monitor
        self.task: Task = task if task is not None else ClassificationTask()
        self.plugins: list[Plugin] = arguments.check_plugins(plugins)
        self.precision_plugin: PrecisionPlugin = self._role("precision") or PrecisionPlugin()
        #: fp32 with the default plugin: forward, backward and step need no precision handling.
        self._plain_precision = type(self.precision_plugin) is PrecisionPlugin
        self.distributed: DistributedPlugin | None = self._role("distributed")
        accumulation = self._role("accumulation")
        #: Legacy accumulation windows (see AccumulationPlugin); read on every batch, so kept here.
        self._legacy_windows = accumulation is not None and accumulation.partial_window == "drop"
        callbacks = [arguments.as_callback(cb) for cb in callbacks]
        if enable_progress_bar and not any(getattr(cb, "is_progress_bar", False) for cb in callbacks):
            from pfdtrain.callbacks.progress import ProgressBar

            callbacks.append(ProgressBar())
        self.callbacks = CallbackList(arguments.checkpoint_writers_last(callbacks))
        self.max_epochs = max_epochs if max_epochs is not None or max_steps is not None else DEFAULT_MAX_EPOCHS
        self.max_steps = max_steps
        self.seed = seed
        self.default_root_dir = Path(default_root_dir)
        self.on_nonfinite = on_nonfinite
        self.check_val_every_n_epoch = check_val_every_n_epoch
        self.log_every_n_steps = log_every_n_steps

        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler_config: SchedulerConfig | None = None
        self.history = History()
        self.current_epoch = 0
        self.global_step = 0
        self.batch_idx = 0
        self.should_stop = False
        self.stage: str | None = None
        self.callback_metrics: dict[str, float] = {}
        self.last_step_output: StepOutput | None = None
        self.grad_norm: torch.Tensor | None = None
        self.train_dataloader: Any = None
        self.val_dataloader: Any = None
        self.num_training_batches: int | None = None
        self._train_metrics = MetricAccumulator()
        self._epoch_start_state: dict[str, Any] | None = None
        self._resume_state: dict[str, Any] | None = None
        self._nonfinite = nonfinite
        self._epoch_finished = False
        self._in_train_epoch = False
        #: Set by the non-finite policy 'skip': the next optimizer step is skipped.
        self.skip_next_optimizer_step = False
        self._epoch_lrs: dict[str, float] = {}

    # ------------------------------------------------------------------ public API

    @property
    def unwrapped_model(self) -> nn.Module:
        """The user's model without a DDP wrapper (what checkpoints hold)."""
        return getattr(self.model, "module", self.model) if self.distributed else self.model

    @property
    def is_global_zero(self) -> bool:
        """True on the process that writes checkpoints, logs and progress."""
        return self.distributed is None or self.distributed.is_global_zero

    @property
    def accumulate_grad_batches(self) -> int:
        plugin = self._role("accumulation")
        return plugin.accumulate_grad_batches if plugin else 1

    @property
    def lr(self) -> float | None:
        return self.optimizer.param_groups[0]["lr"] if self.optimizer else None

    def fit(
        self, train_loader: Iterable[Any], val_loader: Iterable[Any] | None = None, ckpt_path: str | Path | None = None
    ) -> History:
        """Train until ``max_epochs``/``max_steps`` or ``should_stop``; resume from ``ckpt_path``."""
        self._setup("fit", train_loader, val_loader)
        if ckpt_path is not None:
            checkpointing.restore(self, ckpt_path)
        elif self.seed is not None:
            seed_everything(self.seed)
        self.should_stop = False
        optimizer = self.optimizer
        assert optimizer is not None  # built by _setup("fit")
        if not self._legacy_windows:
            optimizer.zero_grad(set_to_none=True)  # stale gradients must not enter step 1
        with self._guard():
            self.callbacks.call("on_fit_start", self)  # hook: on_fit_start
            while not self._finished():
                self._train_epoch()
            self.callbacks.call("on_fit_end", self)  # hook: on_fit_end
        return self.history

    def run_training_epoch(self, loader: Iterable[Any]) -> dict[str, float]:
        """One pass of training batches over ``loader``; returns ``train_*`` means.

        Batch-level hooks and plugins run; epoch hooks, validation, epoch-interval schedulers,
        ``history`` and ``current_epoch`` are left alone. This is the building block for code
        that drives epochs itself (the legacy adapters); new code calls :meth:`fit`.
        """
        if self.optimizer is None or self.train_dataloader is not loader:
            self._setup("fit", loader, self.val_dataloader)
        self.model.train()
        self._train_metrics.reset()
        window = self.accumulate_grad_batches
        with self._guard():
            for batch_idx, batch in enumerate(self.train_dataloader):
                self.batch_idx = batch_idx
                self._train_batch(batch, batch_idx, window)
            self._nonfinite.flush(self)
        reduce = self.distributed.reduce_sums if self.distributed else None
        return {f"train_{k}": v for k, v in self._train_metrics.compute(reduce).items()}

    def evaluate(self, loader: Iterable[Any], prefix: str = "val") -> dict[str, float]:
        """Validation/test pass without set-up, for code that drives epochs itself."""
        if self.stage is None:
            self._setup("validate", None, loader)
        return self._evaluate(loader, prefix)

    def validate(self, loader: Iterable[Any]) -> dict[str, float]:
        """Run the validation step over ``loader``; returns ``val_*`` epoch means."""
        self._setup("validate", None, loader)
        with self._guard():
            return self._evaluate(loader, "val")

    def test(self, loader: Iterable[Any]) -> dict[str, float]:
        """Like :meth:`validate`, with ``test_*`` names."""
        self._setup("test", None, None)
        with self._guard():
            return self._evaluate(loader, "test")

    @torch.no_grad()
    def predict(self, loader: Iterable[Any]) -> torch.Tensor | list[Any]:
        """Outputs of the task's predict step; concatenated when every batch gives a tensor."""
        self._setup("predict", None, None)
        outputs: list[Any] = []
        self.model.eval()
        with self._guard(), self._evaluation_context():
            for batch in loader:
                batch = self.task.transfer_batch(batch, self.device)
                with self.precision_plugin.autocast():
                    outputs.append(self.task.predict_step(self.model, batch, self))  # task: predict
        if outputs and all(isinstance(o, torch.Tensor) for o in outputs):
            return torch.cat(outputs)
        return outputs

    def save_checkpoint(self, path: str | Path) -> Path | None:
        """Write a v2 checkpoint of the full training state; only the global-zero process writes."""
        return checkpointing.save(self, path)

    # ------------------------------------------------------------------ setup

    def _role(self, role: str) -> Any:
        return next((p for p in self.plugins if p.role == role), None)

    def _setup(self, stage: str, train_loader: Any, val_loader: Any) -> None:
        self.stage = stage
        if train_loader is not None:
            arguments.check_loader("train_loader", train_loader)
        if val_loader is not None:
            arguments.check_loader("val_loader", val_loader)
        if not arguments.on_device(self.model, self.device):
            self.model.to(self.device)
        if stage == "fit" and self.optimizer is None:
            self.optimizer = self._build_optimizer()
            self.scheduler_config = build_scheduler_config(
                self._scheduler_arg, self.optimizer, self._scheduler_interval, self._scheduler_monitor
            )
        for plugin in self.plugins:
            plugin.setup(self)  # plugin: setup (may wrap the model)
        self.task.setup(self)  # task: setup
        if self.distributed and train_loader is not None:
            train_loader = self.distributed.prepare_loader(train_loader, shuffle=True)
        if self.distributed and val_loader is not None:
            val_loader = self.distributed.prepare_loader(val_loader, shuffle=False)
        if stage == "fit":
            self.train_dataloader = train_loader
            self.val_dataloader = val_loader
            self.num_training_batches = arguments.safe_len(train_loader)

    def _build_optimizer(self) -> torch.optim.Optimizer:
        opt = self._optimizer_arg
        if opt is None:
            raise ConfigurationError(
                "Trainer.fit needs an optimizer: pass optimizer=torch.optim.AdamW(model.parameters(), "
                "lr=1e-3), or a factory such as optimizer=lambda params: torch.optim.AdamW(params, lr=1e-3)."
            )
        if isinstance(opt, torch.optim.Optimizer):
            owned = {id(p) for p in self.model.parameters()}
            foreign = [p for g in opt.param_groups for p in g["params"] if id(p) not in owned]
            if foreign:
                raise ConfigurationError(
                    f"The optimizer holds {len(foreign)} parameter(s) that do not belong to the model "
                    "given to the Trainer; build it from this model's parameters, or pass a factory "
                    "(lambda params: torch.optim.AdamW(params)) and let the Trainer build it."
                )
            return opt
        if callable(opt):
            built = opt(self.model.parameters())
            if not isinstance(built, torch.optim.Optimizer):
                raise ConfigurationError(
                    f"The optimizer factory returned {type(built).__name__}, not a torch.optim.Optimizer."
                )
            return built
        raise ConfigurationError(
            f"optimizer must be a torch.optim.Optimizer or a function params -> optimizer; received "
            f"{type(opt).__name__}."
        )

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Run ``on_exception`` hooks, then let the exception propagate; always tear plugins down."""
        try:
            yield
        except BaseException as exc:
            self.callbacks.call("on_exception", self, exc)  # hook: on_exception
            raise
        finally:
            for plugin in self.plugins:
                plugin.teardown(self)

    def _finished(self) -> bool:
        if self.should_stop:
            return True
        if self.max_steps is not None and self.global_step >= self.max_steps:
            return True
        return self.max_epochs is not None and self.current_epoch >= self.max_epochs

    # ------------------------------------------------------------------ the loop

    def _train_epoch(self) -> None:
        self.model.train()
        self._epoch_finished = False
        resume = self._resume_state
        self._resume_state = None
        if resume is None:
            self._train_metrics.reset()
            self._epoch_start_state = checkpointing.capture_loader_and_rng_state(self)
            self._epoch_lrs = self._current_lrs()
        for plugin in self.plugins:
            plugin.on_train_epoch_start(self)  # plugin: epoch start (sampler epoch, ...)
        self.task.on_train_epoch_start(self)  # task: epoch schedules
        self.callbacks.call("on_train_epoch_start", self)  # hook: on_train_epoch_start
        batches = checkpointing.epoch_iterator(self, self.train_dataloader, resume)
        window = self.accumulate_grad_batches
        self._in_train_epoch = True
        for batch_idx, batch in batches:
            self.batch_idx = batch_idx
            self._train_batch(batch, batch_idx, window)
            if self.should_stop or (self.max_steps is not None and self.global_step >= self.max_steps):
                break
        self._end_train_epoch()

    def _train_batch(self, batch: Any, batch_idx: int, window: int) -> None:
        hooks = self.callbacks._dispatch  # the callbacks that override each hook, precomputed
        for fn in hooks["on_train_batch_start"]:
            fn(self, batch, batch_idx)  # hook: on_train_batch_start
        batch = self.task.transfer_batch(batch, self.device)  # task: device transfer
        if self._plain_precision:
            out = self.task.training_step(self.model, batch, self)  # task: loss
        else:
            with self.precision_plugin.autocast():  # plugin: precision context
                out = self.task.training_step(self.model, batch, self)
        loss = out.loss
        self._nonfinite.check(self, loss, out.metrics.get("loss"))  # NaN/inf policy
        for fn in hooks["on_before_backward"]:
            fn(self, loss)  # hook: on_before_backward
        if window > 1:
            size = self._window_size(batch_idx, window)
            loss = loss / size if size > 1 else loss
        if self._plain_precision:
            loss.backward()
        else:
            self.precision_plugin.backward(loss)  # plugin: (scaled) backward
        self._train_metrics.update(out.metrics, out.batch_size)
        self.last_step_output = out
        if window == 1 or self._window_closes(batch_idx, window):
            self._optimizer_step()
        for fn in hooks["on_train_batch_end"]:
            fn(self, out, batch, batch_idx)  # hook: on_train_batch_end

    def _optimizer_step(self) -> None:
        optimizer = self.optimizer
        assert optimizer is not None
        precision = self.precision_plugin
        if not self._plain_precision:
            precision.unscale_gradients(optimizer)  # plugin: unscale before clipping
        for plugin in self.plugins:
            plugin.on_before_optimizer_step(self, optimizer)  # plugin: clipping
        for fn in self.callbacks._dispatch["on_before_optimizer_step"]:
            fn(self, optimizer)  # hook: on_before_optimizer_step
        if self.skip_next_optimizer_step:
            self.skip_next_optimizer_step = False
            precision.skip_step(optimizer)
        elif self._plain_precision:
            optimizer.step()
        else:
            precision.optimizer_step(optimizer)  # plugin: (scaled) step
        optimizer.zero_grad(set_to_none=True)
        self.global_step += 1
        for plugin in self.plugins:
            plugin.on_after_optimizer_step(self)  # plugin: EMA
        sched = self.scheduler_config
        if sched is not None and sched.interval == "step" and self.global_step % sched.frequency == 0:
            metrics = {}
            if sched.is_plateau:
                last = self.last_step_output
                metrics = {"train_loss_step": float(last.loss.detach()) if last else math.nan}
            sched.step(metrics)
        if self.global_step % self.log_every_n_steps == 0:
            self._nonfinite.flush(self)

    def _current_lrs(self) -> dict[str, float]:
        """The learning rates an epoch starts with: what its history row reports."""
        groups = self.optimizer.param_groups if self.optimizer else []
        lrs = {"lr": groups[0]["lr"]} if groups else {}
        for i, group in enumerate(groups[1:], start=1):
            lrs[f"lr_pg{i}"] = group["lr"]
        return lrs

    def _window_size(self, batch_idx: int, window: int) -> int:
        """Batches in the accumulation window holding ``batch_idx``; the last window may be short."""
        if window == 1:
            return 1
        if self._legacy_windows:
            return window
        n = self.num_training_batches
        start = batch_idx - batch_idx % window
        if n is None or start + window <= n:
            return window
        return n - start

    def _window_closes(self, batch_idx: int, window: int) -> bool:
        if window == 1 or (batch_idx + 1) % window == 0:
            return True
        if self._legacy_windows:
            return False
        return self.num_training_batches is not None and batch_idx + 1 == self.num_training_batches

    def _end_train_epoch(self) -> None:
        self._in_train_epoch = False
        reduce = self.distributed.reduce_sums if self.distributed else None
        means = self._train_metrics.compute(reduce)
        self._nonfinite.end_epoch(self, means.get("loss", math.nan))
        train = {f"train_{k}": v for k, v in means.items()}
        self.callback_metrics.update(train)
        val: dict[str, float] = {}
        if self.val_dataloader is not None and (self.current_epoch + 1) % self.check_val_every_n_epoch == 0:
            val = self._evaluate(self.val_dataloader, "val")
            self.model.train()
        lrs = self._epoch_lrs
        sched = self.scheduler_config
        if sched is not None and sched.interval == "epoch" and (self.current_epoch + 1) % sched.frequency == 0:
            sched.step({**train, **val})
        record = {"epoch": self.current_epoch, **train, **val, **lrs}
        self.history.append(record)
        self.callback_metrics.update(record)
        self._epoch_finished = True
        self.callbacks.call("on_train_epoch_end", self)  # hook: on_train_epoch_end
        self.current_epoch += 1
        self._epoch_finished = False

    @torch.no_grad()
    def _evaluate(self, loader: Iterable[Any], prefix: str) -> dict[str, float]:
        was_training = self.model.training
        self.model.eval()
        acc = MetricAccumulator()
        if prefix == "val":
            self.callbacks.call("on_validation_start", self)  # hook
        with self._evaluation_context():
            for batch_idx, batch in enumerate(loader):
                if prefix == "val":
                    self.callbacks.call("on_validation_batch_start", self, batch, batch_idx)  # hook
                batch = self.task.transfer_batch(batch, self.device)
                with self.precision_plugin.autocast():
                    out = self.task.validation_step(self.model, batch, self)  # task: eval loss
                acc.update(out.metrics, out.batch_size)
                if prefix == "val":
                    self.callbacks.call("on_validation_batch_end", self, out, batch, batch_idx)  # hook
        reduce = self.distributed.reduce_sums if self.distributed else None
        metrics = {f"{prefix}_{k}": v for k, v in acc.compute(reduce).items()}
        self.callback_metrics.update(metrics)
        if prefix == "val":
            self.callbacks.call("on_validation_end", self)  # hook
        self.model.train(was_training)
        return metrics

    def _evaluation_context(self) -> contextlib.ExitStack:
        stack = contextlib.ExitStack()
        for plugin in self.plugins:
            stack.enter_context(plugin.evaluation_context(self))  # plugin: EMA weights
        return stack
