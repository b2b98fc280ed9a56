"""Save v2 checkpoints during training: periodically, the best k by a metric, and ``last.pt``."""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
import string
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pfdtrain.callbacks._utils import check_mode, missing_metric_error, monitored_value, to_float
from pfdtrain.callbacks.base import Callback
from pfdtrain.checkpoint.atomic import remove_stale_temp_files
from pfdtrain.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer

EXTENSION = ".pt"
LAST_NAME = "last"
DEFAULT_FILENAME = "{epoch}-{step}"
_FORMATTER = string.Formatter()


class ModelCheckpoint(Callback):
    """Write full training checkpoints with ``trainer.save_checkpoint`` (atomic, v2 format).

    Args:
        dirpath: folder for the files; default ``trainer.default_root_dir / "checkpoints"``.
        filename: name template without extension. Each field ``{name}`` or ``{name:fmt}`` becomes
            ``name=<value formatted with fmt>``, so ``"{epoch:02d}-{val_loss:.4f}"`` gives
            ``epoch=03-val_loss=0.1234.pt``. Fields are ``epoch``, ``step`` (optimizer steps) and any
            metric in ``trainer.callback_metrics``. Default ``"{epoch}-{step}"`` (``epoch=3-step=120.pt``);
            a field already preceded by ``name=`` is not prefixed twice. ``/`` in the result becomes ``_``.
        monitor: metric ranking the checkpoints; ``None`` ranks them by recency.
        mode: ``"min"`` or ``"max"`` for ``monitor``.
        save_top_k: files kept: the best k (or, without ``monitor``, the latest k); ``-1`` keeps all,
            ``0`` none (``last.pt`` is still written with ``save_last``). After a crash and a resume
            the folder ends as an uninterrupted run leaves it: each file carries the bookkeeping
            that includes itself; a file the killed run wrote after the checkpoint resumed from
            is replaced when the resumed run writes the same name at the same step (not kept
            beside it as ``-v1``); and a file it had already dropped from the top k but not yet
            deleted when it was killed is deleted on resume. Only files of the same run are
            concerned (a run id in the bookkeeping, inherited by resumed runs): files of other
            runs, ``last.pt``, ``exception-*.pt`` and files written after the resume point that
            the resumed run never writes again (it stops earlier, say) are never deleted.
        save_last: also maintain ``last.pt``, rewritten (atomically) at every save moment.
        every_n_epochs: save at the end of every n-th epoch; ``0`` disables. Default: 1, or 0 when
            ``every_n_train_steps`` is given (step-based saving replaces epoch-based saving; pass
            both explicitly to get both).
        every_n_train_steps: save after the batch at which ``trainer.global_step`` reaches a
            multiple of n (once per optimizer step, also under gradient accumulation).
        save_on_exception: write ``exception-epoch=E-step=S.pt`` when fit() raises (or is interrupted).

    Only the global-zero process writes or deletes files; every process keeps the same bookkeeping.
    A checkpoint written mid-epoch resumes mid-epoch. Files are deleted only when this callback
    wrote them (they are in its bookkeeping, which is part of its checkpointed state).
    """

    writes_checkpoints = True

    def __init__(
        self,
        dirpath: str | os.PathLike | None = None,
        filename: str | None = None,
        monitor: str | None = None,
        mode: str = "min",
        save_top_k: int = 1,
        save_last: bool = False,
        every_n_epochs: int | None = None,
        every_n_train_steps: int | None = None,
        save_on_exception: bool = False,
        verbose: bool = False,
    ) -> None:
        self.mode = check_mode("ModelCheckpoint", mode)
        if monitor is not None and (not isinstance(monitor, str) or not monitor):
            raise ConfigurationError(
                f"ModelCheckpoint(monitor=...) must be a metric name or None; received {monitor!r}."
            )
        if not _is_int(save_top_k) or save_top_k < -1:
            raise ConfigurationError(
                f"ModelCheckpoint(save_top_k=...) must be an int >= -1 (-1 keeps all, 0 none); received {save_top_k!r}."
            )
        if every_n_train_steps is not None and (not _is_int(every_n_train_steps) or every_n_train_steps < 0):
            raise ConfigurationError(
                "ModelCheckpoint(every_n_train_steps=...) must be None or an int >= 0; "
                f"received {every_n_train_steps!r}."
            )
        every_n_train_steps = every_n_train_steps or None
        if every_n_epochs is None:
            every_n_epochs = 0 if every_n_train_steps else 1
        if not _is_int(every_n_epochs) or every_n_epochs < 0:
            raise ConfigurationError(
                f"ModelCheckpoint(every_n_epochs=...) must be an int >= 0 (0 disables); received {every_n_epochs!r}."
            )
        if filename is not None:
            if not isinstance(filename, str) or not filename:
                raise ConfigurationError(
                    f"ModelCheckpoint(filename=...) must be a non-empty str; received {filename!r}."
                )
            _parse_template(filename)  # raises on a malformed template, before training starts
        self.dirpath: Path | None = Path(dirpath) if dirpath is not None else None
        self.filename = filename if filename is not None else DEFAULT_FILENAME
        self.monitor = monitor
        self.save_top_k = save_top_k
        self.save_last = bool(save_last)
        self.every_n_epochs = every_n_epochs
        self.every_n_train_steps = every_n_train_steps
        self.save_on_exception = bool(save_on_exception)
        self.verbose = bool(verbose)

        self.best_model_path = ""
        self.best_model_score: float | None = None
        self.best_k_models: dict[str, float] = {}
        self.kth_best_model_path = ""
        self.kth_value: float | None = None
        self.last_model_path = ""
        #: Files kept by recency when ``monitor`` is None (oldest first).
        self.latest_model_paths: list[str] = []
        self._last_global_step_saved: int | None = None
        #: Identifies one training run across resumes: files carrying it are this run's own.
        self.run_id = secrets.token_hex(8)
        self._restored = False

    @property
    def state_key(self) -> str:
        return self._generate_state_key(
            monitor=self.monitor,
            mode=self.mode,
            every_n_epochs=self.every_n_epochs,
            every_n_train_steps=self.every_n_train_steps,
        )

    # ------------------------------------------------------------------ hooks

    def on_fit_start(self, trainer: Trainer) -> None:
        dirpath = self._resolve_dirpath(trainer)
        if getattr(trainer, "is_global_zero", True) and dirpath.is_dir():
            remove_stale_temp_files(dirpath)  # what a writer killed mid-save left behind
            if self._restored:
                self._tidy_after_resume(trainer, dirpath)

    def on_train_batch_end(self, trainer: Trainer, outputs: Any, batch: Any, batch_idx: int) -> None:
        n = self.every_n_train_steps
        step = int(trainer.global_step)
        if not n or step == 0 or step % n != 0 or step == self._last_global_step_saved:
            return
        self._save(trainer, epoch_end=False)

    def on_train_epoch_end(self, trainer: Trainer) -> None:
        n = self.every_n_epochs
        if not n or (int(trainer.current_epoch) + 1) % n != 0:
            return
        if int(trainer.global_step) == self._last_global_step_saved:
            return  # a step-based save already captured this exact moment
        self._save(trainer, epoch_end=True)

    def on_exception(self, trainer: Trainer, exception: BaseException) -> None:
        if not self.save_on_exception:
            return
        path = self._resolve_dirpath(trainer) / _sanitise(
            f"exception-epoch={trainer.current_epoch}-step={trainer.global_step}{EXTENSION}"
        )
        try:
            trainer.save_checkpoint(path)
        except Exception as err:  # never hide the exception that is propagating
            warnings.warn(f"ModelCheckpoint could not save {path} after {type(exception).__name__}: {err}",
                          stacklevel=2)
            return
        self._say(trainer, f"ModelCheckpoint: saved {path} after {type(exception).__name__}.")

    # ------------------------------------------------------------------ saving

    def _save(self, trainer: Trainer, epoch_end: bool) -> None:
        dirpath = self._resolve_dirpath(trainer)
        if self.monitor is None:
            self._save_by_recency(trainer, dirpath)
        else:
            value = monitored_value(trainer, self.monitor, "ModelCheckpoint", epoch_end=epoch_end)
            if value is not None:
                self._save_top_k(trainer, dirpath, value)
        if self.save_last:
            path = dirpath / f"{LAST_NAME}{EXTENSION}"
            trainer.save_checkpoint(path)
            self.last_model_path = str(path)
        self._last_global_step_saved = int(trainer.global_step)

    def _save_by_recency(self, trainer: Trainer, dirpath: Path) -> None:
        k = self.save_top_k
        if k == 0:
            return
        path = self._new_path(trainer, dirpath)
        before = self.state_dict()
        self.latest_model_paths.append(str(path))
        dropped = []
        while k > 0 and len(self.latest_model_paths) > k:
            dropped.append(self.latest_model_paths.pop(0))
        self.best_model_path = str(path)
        self._write(trainer, path, before)  # the file's own bookkeeping already includes it
        for old in dropped:
            self._remove(trainer, old)

    def _save_top_k(self, trainer: Trainer, dirpath: Path, value: float) -> None:
        k = self.save_top_k
        if k == 0:
            return
        if math.isnan(value):
            value = math.inf if self.mode == "min" else -math.inf  # NaN ranks worst
        full = k != -1 and len(self.best_k_models) >= k
        if full and not _better(value, self._worst_score(), self.mode):
            return
        path = self._new_path(trainer, dirpath)
        before = self.state_dict()
        worst = self._worst_path() if full else None
        if worst is not None:
            del self.best_k_models[worst]
        self.best_k_models[str(path)] = value
        self._update_best()
        self._write(trainer, path, before)
        if worst is not None:
            self._remove(trainer, worst)

    def _write(self, trainer: Trainer, path: Path, before: dict[str, Any]) -> None:
        try:
            trainer.save_checkpoint(path)
        except BaseException:
            self._load_bookkeeping(before)  # nothing was written: the bookkeeping says so too
            raise
        self._say(trainer, f"ModelCheckpoint: saved {path}.")

    def _remove(self, trainer: Trainer, path: str) -> None:
        """Delete a file that dropped out, unless it is still referenced (only on global zero)."""
        if path in self.best_k_models or path in self.latest_model_paths or path == self.last_model_path:
            return
        if getattr(trainer, "is_global_zero", True):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            self._say(trainer, f"ModelCheckpoint: removed {path}.")

    def _worst_path(self) -> str:
        pick = max if self.mode == "min" else min
        return pick(self.best_k_models, key=self.best_k_models.__getitem__)

    def _worst_score(self) -> float:
        return self.best_k_models[self._worst_path()]

    def _update_best(self) -> None:
        if not self.best_k_models:
            self.best_model_path, self.best_model_score = "", None
            self.kth_best_model_path, self.kth_value = "", None
            return
        pick = min if self.mode == "min" else max
        self.best_model_path = pick(self.best_k_models, key=self.best_k_models.__getitem__)
        self.best_model_score = self.best_k_models[self.best_model_path]
        self.kth_best_model_path = self._worst_path()
        self.kth_value = self.best_k_models[self.kth_best_model_path]

    # ------------------------------------------------------------------ names

    def _resolve_dirpath(self, trainer: Trainer) -> Path:
        if self.dirpath is None:
            self.dirpath = Path(getattr(trainer, "default_root_dir", "pfdtrain_runs")) / "checkpoints"
        return self.dirpath

    def format_checkpoint_name(self, metrics: dict[str, Any], version: int | None = None) -> str:
        """File name (with ``.pt``) for ``metrics``, which must hold every field of the template."""
        out: list[str] = []
        for literal, field, spec, conversion in _parse_template(self.filename):
            out.append(literal)
            if field is None:
                continue
            if field not in metrics:
                raise missing_metric_error(f"ModelCheckpoint(filename={self.filename!r})", field, metrics)
            value = metrics[field]
            if conversion:
                value = _FORMATTER.convert_field(value, conversion)
            if not literal.endswith(f"{field}="):
                out.append(f"{field}=")
            out.append(_format_value(value, spec or ""))
        name = "".join(out)
        if version is not None:
            name += f"-v{version}"
        if not name.endswith(EXTENSION):
            name += EXTENSION
        return _sanitise(name)

    def _new_path(self, trainer: Trainer, dirpath: Path) -> Path:
        metrics = {**trainer.callback_metrics, "epoch": int(trainer.current_epoch), "step": int(trainer.global_step)}
        path = dirpath / self.format_checkpoint_name(metrics)
        version = 1
        # Never overwrite a file we keep, nor one we did not write (a previous run's, say). Only
        # the writing process looks at the disk, so that other processes cannot race with its writes.
        look = bool(getattr(trainer, "is_global_zero", True))
        while (str(path) in self.best_k_models or str(path) in self.latest_model_paths
               or (look and path.exists() and not self._written_before_crash(path, trainer))):
            path = dirpath / self.format_checkpoint_name(metrics, version)
            version += 1
        return path

    # ------------------------------------------------------------------ after a crash

    def _written_before_crash(self, path: Path, trainer: Trainer) -> bool:
        """``path`` is this run's own checkpoint of this very step, written by an attempt that was
        killed before its bookkeeping reached the checkpoint resumed from: replacing it is what an
        uninterrupted run does."""
        found = self._own_file(path)
        return found is not None and found[0] == int(trainer.global_step)

    def _tidy_after_resume(self, trainer: Trainer, dirpath: Path) -> None:
        """Delete this run's files that its restored bookkeeping had already dropped from the top k
        (the killed attempt was stopped between writing their successor and deleting them)."""
        step = int(trainer.global_step)
        kept = {os.path.realpath(p) for p in (*self.best_k_models, *self.latest_model_paths, self.last_model_path) if p}
        for path in sorted(dirpath.glob(f"*{EXTENSION}")):
            if path.name == f"{LAST_NAME}{EXTENSION}" or os.path.realpath(path) in kept or not path.is_file():
                continue
            found = self._own_file(path)
            if found is not None and found[1] and found[0] < step:
                try:
                    os.remove(path)
                except FileNotFoundError:
                    continue
                self._say(trainer, f"ModelCheckpoint: removed {path}, dropped from the top {self.save_top_k} "
                                   "before the interruption.")

    def _own_file(self, path: Path) -> tuple[int, bool] | None:
        """(global step, whether it was one of the kept files) for a checkpoint this run's callback
        wrote, read from its pickle without loading it; None for any other file."""
        from pfdtrain.checkpoint.format import FORMAT_NAME
        from pfdtrain.migration.skeleton import read_skeleton

        skeleton = read_skeleton(path)
        obj = skeleton.obj if skeleton.readable else None
        if not isinstance(obj, dict) or obj.get("format") != FORMAT_NAME:
            return None
        callbacks, training = obj.get("callbacks"), obj.get("training")
        mine = callbacks.get(self.state_key) if isinstance(callbacks, dict) else None
        step = training.get("global_step") if isinstance(training, dict) else None
        if not isinstance(mine, dict) or mine.get("run_id") != self.run_id or not isinstance(step, int):
            return None
        listed = [*(mine.get("best_k_models") or {}), *(mine.get("latest_model_paths") or [])]
        itself = os.path.realpath(path)
        return step, any(isinstance(p, str) and os.path.realpath(p) == itself for p in listed)

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        return {
            "dirpath": None if self.dirpath is None else str(self.dirpath),
            "best_model_path": self.best_model_path,
            "best_model_score": self.best_model_score,
            "best_k_models": dict(self.best_k_models),
            "kth_best_model_path": self.kth_best_model_path,
            "kth_value": self.kth_value,
            "last_model_path": self.last_model_path,
            "latest_model_paths": list(self.latest_model_paths),
            "last_global_step_saved": self._last_global_step_saved,
            "run_id": self.run_id,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # dirpath is not restored: a resumed run writes where it is told to (or under its own
        # default_root_dir); the kept files of the earlier run are still tracked by full path.
        self._load_bookkeeping(state)
        self.run_id = str(state.get("run_id") or self.run_id)
        self._restored = True

    def _load_bookkeeping(self, state: dict[str, Any]) -> None:
        self.best_k_models = {str(k): float(v) for k, v in (state.get("best_k_models") or {}).items()}
        self.best_model_path = str(state.get("best_model_path") or "")
        score = state.get("best_model_score")
        self.best_model_score = None if score is None else float(score)
        self.kth_best_model_path = str(state.get("kth_best_model_path") or "")
        kth = state.get("kth_value")
        self.kth_value = None if kth is None else float(kth)
        self.last_model_path = str(state.get("last_model_path") or "")
        self.latest_model_paths = [str(p) for p in state.get("latest_model_paths") or []]
        step = state.get("last_global_step_saved")
        self._last_global_step_saved = None if step is None else int(step)

    def _say(self, trainer: Trainer, message: str) -> None:
        if self.verbose and getattr(trainer, "is_global_zero", True):
            print(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _better(current: float, reference: float, mode: str) -> bool:
    return current < reference if mode == "min" else current > reference


def _parse_template(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as err:
        raise ConfigurationError(
            f"ModelCheckpoint(filename={template!r}) is not a valid template ({err}); use fields like "
            "'{epoch:02d}-{val_loss:.4f}' and double braces for literal ones."
        ) from None
    for _, field, _, _ in parts:
        if field is not None and (not field or field.isdigit() or not re.fullmatch(r"[^\[\].{}]+", field)):
            raise ConfigurationError(
                f"ModelCheckpoint(filename={template!r}): field {{{field}}} must be a plain metric name "
                "such as {epoch}, {step} or {val_loss:.4f}."
            )
    return parts


def _format_value(value: Any, spec: str) -> str:
    if spec and spec[-1] in "bcdoxXn" and not isinstance(value, int):
        as_float = to_float(value, "checkpoint filename field")
        if math.isfinite(as_float) and as_float == int(as_float):
            value = int(as_float)  # "{epoch:02d}" with a float-valued metric
    elif spec and spec[-1] in "eEfFgG%" and not isinstance(value, (int, float)):
        value = to_float(value, "checkpoint filename field")
    try:
        return format(value, spec)
    except (ValueError, TypeError) as err:
        raise ConfigurationError(f"ModelCheckpoint cannot format {value!r} with {{:{spec}}}: {err}") from None


def _sanitise(name: str) -> str:
    """A single file name: path separators in metric names (``lr-Adam/pg1``) become ``_``."""
    return name.replace("/", "_").replace("\\", "_").replace(os.sep, "_")
