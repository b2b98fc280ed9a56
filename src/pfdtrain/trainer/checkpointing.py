"""Turning a Trainer into a v2 checkpoint and back, exactly (also in the middle of an epoch)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from pfdtrain import checkpoint as ckpt
from pfdtrain.checkpoint.atomic import remove_stale_temp_files
from pfdtrain.migration.any_format import load_any

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer


def _loader_generators(loader: Any) -> dict[str, torch.Generator]:
    """The torch.Generators a DataLoader draws from (its own and its sampler's), by role."""
    found: dict[str, torch.Generator] = {}
    if loader is None:
        return found
    gen = getattr(loader, "generator", None)
    if isinstance(gen, torch.Generator):
        found["loader"] = gen
    sampler = getattr(loader, "sampler", None)
    gen = getattr(sampler, "generator", None)
    if isinstance(gen, torch.Generator):
        found["sampler"] = gen
    batch_sampler = getattr(loader, "batch_sampler", None)
    gen = getattr(getattr(batch_sampler, "sampler", None), "generator", None)
    if isinstance(gen, torch.Generator) and "sampler" not in found:
        found["sampler"] = gen
    return found


def capture_loader_and_rng_state(trainer: Trainer) -> dict[str, Any]:
    """Global RNG states plus the training loader's generators, taken before an epoch's iterator exists.

    The RNG part is a raw snapshot (cheap: this runs every epoch); :func:`build` converts it to
    plain data when a mid-epoch checkpoint is actually written.
    """
    return {
        # only torch's streams shape an epoch's shuffling (samplers and worker seeds draw from them);
        # Python's and NumPy's states are restored from the save-time snapshot after the replay
        "random_state": {"torch": torch.get_rng_state(), "cuda": _cuda_states()},
        "loader_generators": {k: g.get_state() for k, g in _loader_generators(trainer.train_dataloader).items()},
    }


def _cuda_states() -> list[torch.Tensor]:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return [state.clone() for state in torch.cuda.get_rng_state_all()]
    return []


def _plain_epoch_start(state: dict[str, Any] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    rng = state["random_state"]
    return {**state, "random_state": {"torch": rng["torch"].clone(), "cuda": list(rng["cuda"])}}


def _restore_loader_and_rng_state(trainer: Trainer, state: dict[str, Any]) -> None:
    if state.get("random_state") is not None:
        ckpt.restore_random_state(state["random_state"])
    gens = _loader_generators(trainer.train_dataloader)
    for key, value in state.get("loader_generators", {}).items():
        if key in gens:
            gens[key].set_state(value)


def epoch_iterator(trainer: Trainer, loader: Iterable, resume: dict[str, Any] | None) -> Iterator[tuple[int, Any]]:
    """``enumerate(loader)``; when resuming mid-epoch, replays the epoch's shuffling and skips done batches."""
    if resume is None:
        return enumerate(loader)
    _restore_loader_and_rng_state(trainer, resume["epoch_start"])
    iterator = iter(loader)
    skipped = 0
    for _ in range(resume["batches_done"]):
        next(iterator)
        skipped += 1
    _restore_loader_and_rng_state(trainer, resume["now"])
    return enumerate(iterator, start=skipped)


def _all_plugins(trainer: Trainer) -> list:
    plugins = list(trainer.plugins)
    if trainer.precision_plugin not in plugins:
        plugins.append(trainer.precision_plugin)
    return plugins


def build(trainer: Trainer) -> dict[str, Any]:
    """The full training state as plain data."""
    model = trainer.unwrapped_model
    mid_epoch = trainer._in_train_epoch
    epoch = trainer.current_epoch + (1 if trainer._epoch_finished else 0)
    sections: dict[str, Any] = {"scaler": None, "ema": None}
    plugin_states: dict[str, Any] = {}
    for plugin in _all_plugins(trainer):
        if plugin.checkpoint_section:
            sections[plugin.checkpoint_section] = plugin.state_dict() or None
        else:
            plugin_states[plugin.state_key] = plugin.state_dict()
    training: dict[str, Any] = {
        "epoch": epoch,
        "global_step": trainer.global_step,
        "best_metric": _best_metric(trainer),
        "history": trainer.history.to_dict(),
        "task": trainer.task.state_dict(),
        "plugins": plugin_states,
        "batches_done_in_epoch": trainer.batch_idx + 1 if mid_epoch else 0,
        "loader_generators": {
            k: g.get_state() for k, g in _loader_generators(trainer.train_dataloader).items()
        },
    }
    if mid_epoch:
        training["epoch_accumulator"] = trainer._train_metrics.state_dict()
        training["epoch_start_state"] = _plain_epoch_start(trainer._epoch_start_state)
        training["epoch_start_lrs"] = dict(trainer._epoch_lrs)
    sched = trainer.scheduler_config
    model_state = model.state_dict()
    exporter = next((p for p in trainer.plugins if getattr(p, "export_ema_weights", False)), None)
    if exporter is not None and sections.get("ema"):
        # readers of model.state_dict get the averaged weights; resume uses the training ones
        sections["ema"]["training_state_dict"] = model_state
        shadow = getattr(exporter, "shadow", {})  # the EMA plugin's averaged weights
        model_state = {k: v.detach().clone() for k, v in shadow.items()}
    return ckpt.new_checkpoint(
        model={
            "state_dict": model_state,
            "architecture": f"{type(model).__module__}.{type(model).__qualname__}",
            "config": _model_config(model),
        },
        training=training,
        optimizer=trainer.optimizer.state_dict() if trainer.optimizer else None,
        scheduler=sched.scheduler.state_dict() if sched else None,
        scaler=sections["scaler"],
        ema=sections["ema"],
        callbacks=trainer.callbacks.state_dict(),
        config=config(trainer),
        random_state=ckpt.capture_random_state(),
        extra={},
    )


def save(trainer: Trainer, path: str | Path) -> Path | None:
    """Write the training state to ``path`` (global zero only); what a save killed earlier left in
    that folder (hidden temporary files of dead writers) is removed first."""
    state = build(trainer)
    trainer.callbacks.call("on_save_checkpoint", trainer, state)  # hook: on_save_checkpoint
    if not trainer.is_global_zero:
        return None
    remove_stale_temp_files(Path(path).parent)
    return ckpt.save(state, path)


def restore(trainer: Trainer, path: str | Path) -> None:
    """Load weights, optimizer, scheduler, plugin/callback states, counters and RNG from ``path``.

    ``path`` may be a legacy (v1) file of any known layout: it is upgraded in memory, giving the
    weights always and the optimizer, scheduler, epoch count and history where it has them.
    """
    state = load_any(path, map_location=trainer.device)
    if trainer.is_global_zero:  # the run that wrote `path` may have been killed mid-save
        remove_stale_temp_files(Path(path).parent)
    weights = (state.get("ema") or {}).get("training_state_dict") or state["model"]["state_dict"]
    ckpt.load_model_state(trainer.unwrapped_model, weights)
    if state.get("optimizer") is not None and trainer.optimizer is not None:
        trainer.optimizer.load_state_dict(state["optimizer"])
    if state.get("scheduler") is not None and trainer.scheduler_config is not None:
        trainer.scheduler_config.scheduler.load_state_dict(state["scheduler"])
    training = state.get("training", {})
    for plugin in _all_plugins(trainer):
        if plugin.checkpoint_section:
            if state.get(plugin.checkpoint_section):
                plugin.load_state_dict(state[plugin.checkpoint_section])
        elif plugin.state_key in training.get("plugins", {}):
            plugin.load_state_dict(training["plugins"][plugin.state_key])
    if training.get("task"):
        trainer.task.load_state_dict(training["task"])
    trainer.callbacks.load_state_dict(state.get("callbacks") or {})
    trainer.current_epoch = int(training.get("epoch", 0))
    trainer.global_step = int(training.get("global_step", 0))
    from pfdtrain.history import History

    trainer.history = History(_aligned_history(training.get("history") or {}))
    batches_done = int(training.get("batches_done_in_epoch", 0))
    if batches_done:
        trainer._train_metrics.load_state_dict(training["epoch_accumulator"], trainer.device)
        trainer._epoch_start_state = training["epoch_start_state"]
        trainer._epoch_lrs = dict(training["epoch_start_lrs"])
        trainer._resume_state = {
            "batches_done": batches_done,
            "epoch_start": training["epoch_start_state"],
            "now": {"random_state": state["random_state"], "loader_generators": training.get("loader_generators", {})},
        }
    trainer.callbacks.call("on_load_checkpoint", trainer, state)  # hook: on_load_checkpoint
    if not batches_done:
        _restore_loader_and_rng_state(
            trainer,
            {"random_state": state.get("random_state"), "loader_generators": training.get("loader_generators", {})},
        )


def _aligned_history(history: dict[str, Any]) -> dict[str, list]:
    """Pad shorter lists with leading ``None``: a legacy CNNTrainer run without validation has
    empty ``val_*`` lists next to full ``train_*`` ones, which ``History`` would refuse."""
    lists = {str(k): list(v) for k, v in history.items() if isinstance(v, (list, tuple))}
    epochs = max(map(len, lists.values()), default=0)
    return {k: [None] * (epochs - len(v)) + v for k, v in lists.items()}


def config(trainer: Trainer) -> dict[str, Any]:
    sched = trainer.scheduler_config
    return {
        "max_epochs": trainer.max_epochs,
        "max_steps": trainer.max_steps,
        "device": str(trainer.device),
        "seed": trainer.seed,
        "precision": getattr(trainer.precision_plugin, "precision", "32"),
        "accumulate_grad_batches": trainer.accumulate_grad_batches,
        "task": f"{type(trainer.task).__module__}.{type(trainer.task).__qualname__}",
        "plugins": [type(p).__qualname__ for p in trainer.plugins],
        "callbacks": [type(c).__qualname__ for c in trainer.callbacks],
        "optimizer": type(trainer.optimizer).__qualname__ if trainer.optimizer else None,
        "scheduler": type(sched.scheduler).__qualname__ if sched else None,
        "scheduler_interval": sched.interval if sched else None,
        "on_nonfinite": trainer.on_nonfinite,
        "check_val_every_n_epoch": trainer.check_val_every_n_epoch,
    }


def _best_metric(trainer: Trainer) -> float | None:
    for cb in trainer.callbacks:
        best = getattr(cb, "best_model_score", None)
        if best is not None:
            return float(best)
    return None


def _model_config(model: torch.nn.Module) -> dict[str, Any]:
    get_config = getattr(model, "get_config", None)
    if not callable(get_config):
        return {}
    try:
        cfg = get_config()
        ckpt.validate_plain_data(cfg)
    except Exception:  # a model config that is not plain data is simply not recorded
        return {}
    return dict(cfg) if isinstance(cfg, dict) else {}


__all__ = ["build", "capture_loader_and_rng_state", "config", "epoch_iterator", "restore", "save"]
