"""Explain why a file failed to load, without ever unpickling it unsafely.

torch's own errors differ by file kind and version (UnpicklingError, IndexError, OSError...)
and tell the user to retry with ``weights_only=False``, the one thing not to do with an unknown
file. Here the file is judged from its first bytes and a static scan of its pickle opcodes
(``pickletools`` only disassembles; nothing is imported or called).
"""

from __future__ import annotations

import io
import pickletools
import re
import zipfile
from pathlib import Path

import torch

from pfdtrain.checkpoint.errors import CheckpointFormatError
from pfdtrain.checkpoint.format import migrate_command

ZIP_MAGIC = b"PK\x03\x04"
LFS_POINTER = b"version https://git-lfs"
_MAX_PICKLES = 6  # a legacy (non-zip) torch file is a handful of pickles, then raw storage bytes
_STRING_OPS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}
)


def unsafe_globals(file: Path, error_message: str, is_zip: bool) -> list[str]:
    """Globals that weights-only loading refuses: from torch's message and a static scan."""
    names = re.findall(r"GLOBAL ([\w.]+)", error_message)
    try:
        if is_zip:
            names += torch.serialization.get_unsafe_globals_in_checkpoint(file)
        else:
            allowed = _allowed_globals()
            if allowed is not None:
                names += [name for name in scan_pickle_globals(file) if name not in allowed]
    except Exception:  # best effort: the refusal itself never depends on the scan
        pass
    return list(dict.fromkeys(names))


def scan_pickle_globals(file: Path) -> list[str]:
    """Every ``module.name`` global referenced by the pickle stream(s) at the start of ``file``."""
    found: list[str] = []
    with open(file, "rb") as handle:
        for _ in range(_MAX_PICKLES):
            names = _globals_or_none(handle)
            if names is None:  # end of the pickles (raw storage bytes follow) or damaged data
                break
            found += names
    return list(dict.fromkeys(found))


def _globals_or_none(handle: io.BufferedReader) -> list[str] | None:
    try:
        return _globals_in_one_pickle(handle)
    except Exception:
        return None


def scan_zip_pickle_globals(file: Path) -> list[str]:
    """Every global referenced by the pickle(s) of a torch zip archive (``*/data.pkl``, nothing run).

    Raises ``zipfile.BadZipFile`` for a damaged archive and ValueError when it holds no pickle.
    """
    found: list[str] = []
    with zipfile.ZipFile(file) as archive:
        names = [n for n in archive.namelist() if n.endswith(".pkl")]
        if not names:
            raise ValueError(f"{file}: zip archive without a pickle (not a torch checkpoint)")
        for name in names:
            with archive.open(name) as member:
                found += _globals_in_one_pickle(io.BytesIO(member.read()))
    return [normalize_global(name) for name in dict.fromkeys(found)]


def normalize_global(name: str) -> str:
    """Python 2 module names as Python 3 reads them (``__builtin__.set`` is ``builtins.set``)."""
    module, _, attr = name.rpartition(".")
    renamed = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)
    return f"{renamed}.{attr}"


def _globals_in_one_pickle(handle: io.BufferedReader | io.BytesIO) -> list[str]:
    found = []
    strings: list[str] = []  # recent string pushes, for STACK_GLOBAL (module and name on the stack)
    memo: dict[int, str] = {}
    for opcode, arg, _ in pickletools.genops(handle):
        name = opcode.name
        if name == "GLOBAL":
            module, _, attr = str(arg).partition(" ")
            found.append(f"{module}.{attr}")
        elif name == "STACK_GLOBAL" and len(strings) >= 2:
            found.append(f"{strings[-2]}.{strings[-1]}")
        elif name in _STRING_OPS:
            strings.append(arg.decode("latin-1") if isinstance(arg, bytes) else str(arg))
        elif name == "MEMOIZE" and strings:
            memo[len(memo)] = strings[-1]
        elif name in ("BINPUT", "LONG_BINPUT", "PUT") and strings and isinstance(arg, int):
            memo[arg] = strings[-1]
        elif name in ("BINGET", "LONG_BINGET", "GET") and isinstance(arg, int) and arg in memo:
            strings.append(memo[arg])
        if name == "STOP":
            break
    return found


def _allowed_globals() -> set[str] | None:
    """Names torch's weights-only unpickler accepts (private torch API: None if it moved)."""
    try:
        from torch import _weights_only_unpickler as unpickler

        return set(unpickler._get_allowed_globals()) | set(unpickler._get_user_allowed_globals())
    except Exception:
        return None


def unsafe_file_error(file: Path, names: list[str]) -> CheckpointFormatError:
    listed = f" ({', '.join(names)})" if names else ""
    return CheckpointFormatError(
        f"Refused to load {file}: it contains Python objects that are not plain data{listed}. "
        "pfdtrain loads checkpoints with weights_only=True, so a file that would need to import "
        "or call code is refused for safety; nothing in it was executed. Only if the file comes "
        "from a source you trust and is a legacy checkpoint, convert it with: "
        f"{migrate_command(str(file))}",
        unsafe_globals=names,
    )


def unreadable_file_error(file: Path, head: bytes, exc: BaseException) -> CheckpointFormatError:
    """Say what looks wrong with an unreadable file, judging from its first bytes."""
    if head.startswith(ZIP_MAGIC) or (head.startswith(b"PK") and _is_damaged_zip(file)):
        what = "a zip archive that is truncated or damaged (an interrupted save or an incomplete copy?)"
    elif head[:1] == b"\x80":
        what = "a pickle stream that ends early or is damaged (a truncated legacy checkpoint?)"
    elif looks_like_text(head):
        preview = head.decode("utf-8", errors="replace").strip().splitlines()[0][:40]
        return CheckpointFormatError(
            f"Cannot read {file}: it is a text file (it starts with {preview!r}), not a torch checkpoint."
        )
    else:
        what = "not a torch checkpoint (unknown binary content)"
    return CheckpointFormatError(f"Cannot read {file}: it is {what}. Details: {short_detail(exc)}")


def short_detail(exc: BaseException) -> str:
    """The informative line of torch's message, without its "weights_only=False" advice."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", str(exc)) if p.strip()]
    useful = [
        p for p in paragraphs
        if not any(noise in p for noise in ("weights_only", "Check the documentation", "Please file an issue"))
    ]
    text = (useful or paragraphs or [""])[0].replace("WeightsUnpickler error:", "").strip()
    line = text.splitlines()[0].split(". ")[0].rstrip(".") if text else ""
    return f"{type(exc).__name__}: {line[:200]}" if line else type(exc).__name__


def looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # more than a character cut by the read window
            return False
        text = head[: exc.start].decode("utf-8")
    return bool(text.strip()) and all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def _is_damaged_zip(file: Path) -> bool:
    try:
        with zipfile.ZipFile(file):
            return False
    except zipfile.BadZipFile:
        return True
    except Exception:
        return False
