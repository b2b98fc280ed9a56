"""Open any checkpoint file, v1 or v2, without ever running code from it.

Order of events for a file: its first bytes tell what it is (empty, Git LFS pointer, text, zip,
legacy torch file, raw pickle); a static scan of its pickle opcodes lists every global it names,
and anything outside torch's weights-only allow-list, the harmless legacy aliases
(:data:`~pfdtrain.migration.legacy_values.ALIASES`) and the caller's ``allow_globals`` is
refused right there, with the names listed; only then ``torch.load(weights_only=True)`` reads it
(still the safety net), and the result is turned into plain data. ``trust_unsafe=True`` is the
one way around this, for a file the user vouches for, and warns loudly.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import re
import threading
import types
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from packaging.version import Version

from pfdtrain.checkpoint.diagnose import (
    LFS_POINTER,
    ZIP_MAGIC,
    looks_like_text,
    normalize_global,
    scan_pickle_globals,
    scan_zip_pickle_globals,
    short_detail,
    unreadable_file_error,
    unsafe_globals,
)
from pfdtrain.checkpoint.errors import CorruptCheckpointError, UnsafeCheckpointError
from pfdtrain.checkpoint.regular_file import open_regular, read_at, torch_readable_path
from pfdtrain.migration.legacy_values import ALIASES, to_plain_data
from pfdtrain.migration.source_check import SourceCheck, check_source

#: ``torch.save(..., _use_new_zipfile_serialization=False)`` files start with this pickled number.
LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
#: GHSA-63cw-57p8-fm3p (CVE-2026-24747): weights_only memory corruption, fixed in torch 2.10.
FIXED_IN_TORCH = Version("2.10")

AllowedGlobal = str | Any | tuple[Any, str]


class UnsafeLoadWarning(UserWarning):
    """A file is being loaded with full pickle (``trust_unsafe=True``): it can run any code."""


class OldTorchWarning(UserWarning):
    """The installed torch predates the fix of a known ``weights_only`` advisory."""


@dataclass(frozen=True)
class FileInfo:
    """What the first bytes say: ``serialization`` is ``torch_zip``, ``torch_legacy`` or ``pickle``."""

    path: Path
    size: int
    serialization: str


@dataclass
class LoadedFile:
    """An unpickled file as plain data, with what was converted on the way (see ``to_plain_data``)."""

    obj: Any
    info: FileInfo
    conversions: list[dict[str, Any]] = field(default_factory=list)
    trusted_unsafe: bool = False


def inspect_file(path: str | os.PathLike[str]) -> FileInfo:
    """Classify a file from its first bytes; raise :class:`CorruptCheckpointError` for non-checkpoints.

    Only a regular file is opened (a FIFO would block, a device never end): anything else raises
    :class:`~pfdtrain.checkpoint.errors.NotRegularFileError` before any open.
    """
    file = Path(path)
    fd = open_regular(file)  # FileNotFoundError propagates as is
    try:
        head = read_at(fd, 64, 0)
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    if not head:
        raise CorruptCheckpointError(
            f"{file} is empty (0 bytes): an interrupted save or a failed copy; use an earlier checkpoint.",
            kind="empty",
        )
    if head.startswith(LFS_POINTER):
        raise CorruptCheckpointError(
            f"{file} is a Git LFS pointer ({size} bytes of text), not the checkpoint: fetch it with `git lfs pull`.",
            kind="lfs-pointer",
        )
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(file):
                pass
        except zipfile.BadZipFile:
            raise CorruptCheckpointError(
                f"{file} is a truncated or damaged zip archive ({size} bytes; its central directory is "
                "missing): an interrupted save or an incomplete copy.",
                kind="truncated",
            ) from None
        return FileInfo(file, size, "torch_zip")
    if head.startswith(LEGACY_TORCH_MAGIC):
        return FileInfo(file, size, "torch_legacy")
    if head[:1] == b"\x80":
        return FileInfo(file, size, "pickle")
    if looks_like_text(head):
        preview = head.decode("utf-8", errors="replace").strip().splitlines()[0][:40]
        raise CorruptCheckpointError(
            f"{file} is a text file (it starts with {preview!r}), not a torch checkpoint.", kind="not-a-checkpoint"
        )
    raise CorruptCheckpointError(f"{file} is not a torch checkpoint (unknown binary content).", kind="not-a-checkpoint")


def resolve_global(name: str) -> Any:
    """Import ``package.module.Name`` for ``--allow-global`` (the user asked for this import)."""
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                target = getattr(target, attr)
        except AttributeError:
            break
        return target
    raise ValueError(f"--allow-global {name}: no importable object of that name (expected module.Name)")


def safe_load(
    path: str | os.PathLike[str],
    map_location: Any = "cpu",
    *,
    mmap: bool = False,
    allow_globals: Sequence[AllowedGlobal] = (),
    trust_unsafe: bool = False,
    checked: SourceCheck | None = None,
) -> LoadedFile:
    """Unpickle a checkpoint file safely and return it as plain data.

    ``mmap=True`` maps tensor storages instead of reading them (zip files only; a legacy file is
    read normally). Every file first passes :func:`~pfdtrain.migration.source_check.check_source`
    (pass ``checked`` when the caller already did): every storage against its record, since
    torch's mmap reader trusts the pickle's storage sizes, and, when the whole file is read anyway
    (no mmap), every record's CRC-32, which torch never checks, so that a resumed run cannot train
    on from silently damaged weights. Memory-mapped callers (``migrate-checkpoint``) prove the
    large records' CRCs while they copy them. ``allow_globals`` admits extra globals: names
    (imported), objects, or ``(object, "module.Name")`` pairs. Raises :class:`UnsafeCheckpointError`
    (nothing executed), :class:`CorruptCheckpointError` or FileNotFoundError.
    """
    info = inspect_file(path)
    if checked is None:
        checked = check_source(info.path, crc="pickle" if mmap else "all")
    warn_if_torch_predates_fix()
    extra = [_as_pair(item) for item in allow_globals]
    extra += numpy_companions({name for _, name in extra})
    if trust_unsafe:
        warnings.warn(
            f"--trust-unsafe: loading {info.path} with full pickle. Any code inside the file runs now, "
            "with your permissions. Only do this for a file whose origin you trust.",
            UnsafeLoadWarning,
            stacklevel=2,
        )
        obj = _torch_load(info, map_location, mmap, weights_only=False)
    else:
        _refuse_unknown_globals(info, {name for _, name in extra})
        user_names = {name for _, name in extra}  # a global the user admits replaces its stand-in
        aliases = [(obj, name) for name, obj in ALIASES.items() if name not in user_names]
        with registered_safe_globals([*aliases, *extra]):
            obj = _torch_load(info, map_location, mmap, weights_only=True)
    obj, conversions = to_plain_data(obj)
    return LoadedFile(obj, info, conversions, trusted_unsafe=trust_unsafe)


def _as_pair(item: AllowedGlobal) -> tuple[Any, str]:
    if isinstance(item, str):
        return resolve_global(item), item
    if isinstance(item, tuple):
        return item[0], item[1]
    return item, f"{item.__module__}.{item.__qualname__}"


def numpy_companions(user_names: set[str]) -> list[tuple[Any, str]]:
    """Admitting a NumPy global (arrays need ``numpy.ndarray`` and ``_reconstruct``) means trusting
    NumPy: its real dtype classes and scalar constructor then replace the stand-ins, which an array's
    state could not be built from."""
    if not any(name.startswith("numpy.") for name in user_names):
        return []
    import numpy as np

    pairs: list[tuple[Any, str]] = [(np.dtype, "numpy.dtype")]
    for name in ("numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"):
        with contextlib.suppress(ValueError, ImportError):
            pairs.append((resolve_global(name), name))
    dtypes = getattr(np, "dtypes", None)
    for attr in dir(dtypes) if dtypes is not None else ():
        cls = getattr(dtypes, attr)
        if isinstance(cls, type) and issubclass(cls, np.dtype):
            pairs.append((cls, f"numpy.dtypes.{attr}"))
    return [pair for pair in pairs if pair[1] not in user_names]


def _refuse_unknown_globals(info: FileInfo, user_names: set[str]) -> None:
    """Static opcode scan; refuse before unpickling when a global is not admitted."""
    allowed = _torch_allowed_names()
    if allowed is None:  # torch moved its private allow-list: weights_only loading still refuses
        return
    try:
        if info.serialization == "torch_zip":
            names = scan_zip_pickle_globals(info.path)
        else:
            names = [normalize_global(n) for n in scan_pickle_globals(info.path)]
    except ValueError as exc:
        raise CorruptCheckpointError(f"{info.path}: {exc}", kind="not-a-checkpoint") from None
    except Exception:  # a damaged pickle: torch.load below reports it (and is still weights-only)
        return
    refused = [n for n in names if n not in allowed and n not in ALIASES and n not in user_names]
    if refused:
        raise _unsafe_error(info.path, refused)


def _unsafe_error(file: Path, names: Sequence[str]) -> UnsafeCheckpointError:
    listed = ", ".join(names) if names else "unknown (see torch's message)"
    return UnsafeCheckpointError(
        f"Refused {file}: it needs Python objects that are not plain data: {listed}. Nothing in it was "
        "run. A pickled model or a payload that calls code cannot be migrated safely; if you trust "
        "the file, admit one global with --allow-global NAME, or load the whole file with "
        "--trust-unsafe (runs its code).",
        unsafe_globals=names,
    )


def _torch_allowed_names() -> set[str] | None:
    try:
        from torch import _weights_only_unpickler as unpickler

        return set(unpickler._get_allowed_globals())
    except Exception:
        return None


#: How torch's weights-only unpickler words a refusal (as opposed to a damaged file).
_REFUSALS = ("GLOBAL", "allowlisted", "add_safe_globals", "safe_globals")


def _torch_load(info: FileInfo, map_location: Any, mmap: bool, *, weights_only: bool) -> Any:
    use_mmap = bool(mmap) and info.serialization == "torch_zip"
    kwargs: dict[str, Any] = {"map_location": map_location, "weights_only": weights_only, "mmap": use_mmap}
    if not weights_only:
        kwargs["pickle_module"] = _aliasing_pickle_module()
    try:
        with torch_readable_path(info.path) as name:
            return torch.load(name, **kwargs)
    except (MemoryError, PermissionError, FileNotFoundError):
        raise
    except Exception as exc:
        if "Attempting to deserialize object on" in str(exc):  # a device missing here: not the file's fault
            raise
        is_zip = info.serialization == "torch_zip"
        text = str(exc)
        if weights_only and isinstance(exc, pickle.UnpicklingError) and any(m in text for m in _REFUSALS):
            names = unsafe_globals(info.path, text, is_zip) + re.findall(r"got <class '([\w.]+)'>", text)
            raise _unsafe_error(info.path, list(dict.fromkeys(names))) from None
        raise _unreadable(info, exc) from exc


def _unreadable(info: FileInfo, exc: BaseException) -> CorruptCheckpointError:
    """A file whose header looked right but whose body cannot be read: almost always cut short."""
    if info.serialization == "torch_zip":
        with open(info.path, "rb") as handle:
            head = handle.read(64)
        return CorruptCheckpointError(str(unreadable_file_error(info.path, head, exc)), kind="truncated")
    if info.serialization == "torch_legacy" or isinstance(exc, EOFError) or "truncated" in str(exc):
        what = "legacy (non-zip) torch file" if info.serialization == "torch_legacy" else "pickle stream"
        return CorruptCheckpointError(
            f"{info.path} is a {what} that ends early or is damaged ({info.size} bytes): an interrupted "
            f"save or an incomplete copy. Details: {short_detail(exc)}",
            kind="truncated",
        )
    return CorruptCheckpointError(f"Cannot read {info.path}: {short_detail(exc)}", kind="not-a-checkpoint")


def _aliasing_pickle_module() -> types.ModuleType:
    """A ``pickle`` look-alike whose unpickler maps the legacy aliases (WindowsPath on Linux...)."""

    class AliasingUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            alias = ALIASES.get(normalize_global(f"{module}.{name}"))
            return alias if alias is not None else super().find_class(module, name)

    module = types.ModuleType("pfdtrain_aliasing_pickle")
    module.Unpickler = AliasingUnpickler  # type: ignore[attr-defined]  # a module made here, filled here
    module.load = lambda file, **kw: AliasingUnpickler(file, **kw).load()  # type: ignore[attr-defined]  # same module
    module.__dict__.update({"UnpicklingError": pickle.UnpicklingError})
    return module


# ---------------------------------------------------------------- thread-safe safe_globals

_registry_lock = threading.Lock()
_registry_counts: Counter = Counter()


@contextlib.contextmanager
def registered_safe_globals(entries: Sequence[tuple[Any, str]]) -> Iterator[None]:
    """``torch.serialization.safe_globals`` that threads can share.

    torch keeps one process-wide set; its context manager removes entries on exit even while
    another thread (``--jobs``) is still loading with them. Here entries are reference-counted.
    """
    entries = list(dict.fromkeys(entries))
    with _registry_lock:
        fresh = [e for e in entries if _registry_counts[e] == 0]
        _registry_counts.update(entries)
        if fresh:
            torch.serialization.add_safe_globals(cast(Any, fresh))  # (object, "module.Name") pairs, as documented
    try:
        yield
    finally:
        with _registry_lock:
            _registry_counts.subtract(entries)
            gone = [e for e in entries if _registry_counts[e] <= 0]
            for entry in gone:
                del _registry_counts[entry]
            if gone:
                _remove_safe_globals(gone)


def _remove_safe_globals(entries: list[tuple[Any, str]]) -> None:
    from torch import _weights_only_unpickler as unpickler

    remove = getattr(unpickler, "_remove_safe_globals", None)
    if remove is not None:
        remove(entries)
    else:  # pragma: no cover - older/newer private API
        unpickler._marked_safe_globals_set.difference_update(entries)


# ---------------------------------------------------------------- torch version advisory

_warned_old_torch = False


def warn_if_torch_predates_fix(version: str | None = None) -> bool:
    """Warn once per process when torch < 2.10 (GHSA-63cw-57p8-fm3p is fixed only there)."""
    global _warned_old_torch
    found = Version(Version(version or torch.__version__).base_version)
    if found >= FIXED_IN_TORCH or _warned_old_torch:
        return False
    _warned_old_torch = True
    warnings.warn(
        f"torch {found} predates 2.10: a crafted file can corrupt memory even under "
        "weights_only=True (advisory GHSA-63cw-57p8-fm3p, fixed in torch 2.10). pfdtrain still "
        "refuses unknown globals, but upgrade torch before opening checkpoints you did not make.",
        OldTorchWarning,
        stacklevel=3,
    )
    return True
