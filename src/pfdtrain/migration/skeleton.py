"""What a checkpoint holds, read from its pickle opcodes without unpickling anything.

:func:`read_skeleton` walks the pickle stream of a torch file (the ``data.pkl`` member of a zip
checkpoint, or the object pickle of a legacy non-zip file) with :func:`pickletools.genops` and a
small stack machine that only *builds plain containers*: dicts, lists, tuples, strings and numbers
become themselves, every tensor becomes :data:`TENSOR`, and any other global that the stream would
call becomes an :class:`Opaque` that records its name. No global is imported, no callable is
called, no ``__reduce__`` runs: a malicious file is as harmless here as a text file. The result is
enough to tell the layout from the keys (``scan``, ``migrate-checkpoint --dry-run``).
"""

from __future__ import annotations

import pickletools
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

#: The first pickle of a legacy (non-zip) torch file: torch.serialization.MAGIC_NUMBER.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
ZIP_MAGIC = b"PK\x03\x04"
LFS_POINTER = b"version https://git-lfs"
SAFETENSORS_HINT = b'{"'

#: Globals that rebuild a tensor (their result is a tensor whatever their arguments).
TENSOR_REBUILDERS = frozenset({
    "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_nested_tensor",
    "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_device_tensor_from_cpu_tensor",
    "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
    "torch._tensor._rebuild_from_type", "torch._tensor._rebuild_from_type_v2", "torch.nn.parameter.Parameter",
    "torch.Tensor", "torch._utils._rebuild_xla_tensor", "torch._utils._rebuild_mps_tensor",
})


class _Tensor:
    """Stands for a tensor in a skeleton (its data is never read)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<tensor>"


TENSOR = _Tensor()


@dataclass(eq=False)
class Opaque:
    """The result of a call to a global that is not a plain container (a pickled object)."""

    name: str
    args: Any = None

    def __repr__(self) -> str:
        return f"<{self.name}>"

    def __hash__(self) -> int:
        return id(self)


@dataclass(frozen=True)
class _Global:
    name: str


class _Storage:
    __slots__ = ()


class UnsupportedPickle(Exception):
    pass


@dataclass
class Skeleton:
    """A file's serialization, its object skeleton (None when unreadable), the globals the pickle
    names, and why it could not be read."""

    serialization: str  # torch_zip | torch_legacy | pickle | empty | git_lfs_pointer | safetensors | text | unknown
    obj: Any = None
    globals: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def readable(self) -> bool:
        return self.error is None


def read_skeleton(path: str | Path) -> Skeleton:
    """The skeleton of a checkpoint file (see the module docstring). Never raises for bad files."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
            if not head:
                return Skeleton("empty", error="empty file")
            if head.startswith(ZIP_MAGIC):
                return _zip_skeleton(path)
            if head.startswith(LFS_POINTER):
                return Skeleton("git_lfs_pointer", error="a Git LFS pointer, not the file (run `git lfs pull`)")
            if head[:1] == b"\x80":
                handle.seek(0)
                return _legacy_skeleton(handle)
            if len(head) > 8 and head[8:10] == SAFETENSORS_HINT:
                return Skeleton("safetensors", error="a safetensors file (plain tensors, no pickle)")
    except OSError as exc:
        return Skeleton("unknown", error=f"cannot read: {exc.strerror or exc}")
    if _looks_like_text(head):
        return Skeleton("text", error="a text file, not a torch checkpoint")
    return Skeleton("unknown", error="not a torch checkpoint (unknown binary content)")


def _zip_skeleton(path: Path) -> Skeleton:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith("data.pkl")]
            if not names:
                return Skeleton("torch_zip", error="a zip archive without data.pkl (not a torch checkpoint)")
            data = archive.read(min(names, key=len))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        return Skeleton("torch_zip", error=f"a zip archive that is truncated or damaged ({exc})")
    import io

    try:
        obj, names = _interpret(io.BytesIO(data))
    except Exception as exc:
        return Skeleton("torch_zip", error=f"unreadable pickle in data.pkl ({type(exc).__name__}: {exc})")
    return Skeleton("torch_zip", obj, names)


def _legacy_skeleton(handle: BinaryIO) -> Skeleton:
    seen: list[str] = []
    try:
        first, names = _interpret(handle)
        seen += names
        if first == TORCH_LEGACY_MAGIC:
            for _ in range(2):  # protocol version, sys_info
                _, names = _interpret(handle)
                seen += names
            obj, names = _interpret(handle)
            return Skeleton("torch_legacy", obj, seen + names)
        return Skeleton("pickle", first, seen)
    except Exception as exc:
        return Skeleton("pickle", globals=seen,
                        error=f"a pickle stream that ends early or is damaged ({type(exc).__name__}: {exc})")


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(text.strip()) and all(ch.isprintable() or ch in "\r\n\t" for ch in text)


_PUSH_VALUE = frozenset({
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
    "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
    "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8",
})


def interpret_pickle(handle: BinaryIO, storages: list[Any] | None = None) -> tuple[Any, list[str]]:
    """Run one pickle (up to STOP) on the container-only stack machine: (skeleton, globals named).

    ``storages``, when given, receives every persistent id in the order the pickle names them (a
    torch file's ``('storage', <storage type>, key, location, numel, ...)`` tuples), as plain data.
    Raises for a pickle the machine cannot follow (damaged, or an opcode no checkpoint uses).
    """
    return _interpret(handle, storages)


def _interpret(handle: BinaryIO, storages: list[Any] | None = None) -> tuple[Any, list[str]]:
    """Run one pickle (up to STOP) on the container-only stack machine."""
    stack: list[Any] = []
    marks: list[list[Any]] = []
    memo: dict[int, Any] = {}
    globals_seen: list[str] = []

    def pop_mark() -> list[Any]:
        nonlocal stack
        items = stack
        stack = marks.pop()
        return items

    for opcode, arg, _ in pickletools.genops(handle):
        op = opcode.name
        if op in ("PROTO", "FRAME"):
            continue
        if op in _PUSH_VALUE:
            stack.append(arg)
        elif op == "NONE":
            stack.append(None)
        elif op == "NEWTRUE":
            stack.append(True)
        elif op == "NEWFALSE":
            stack.append(False)
        elif op == "EMPTY_DICT":
            stack.append({})
        elif op in ("EMPTY_LIST", "EMPTY_SET"):
            stack.append([])
        elif op == "EMPTY_TUPLE":
            stack.append(())
        elif op == "MARK":
            marks.append(stack)
            stack = []
        elif op == "TUPLE":
            items = pop_mark()  # (stack is rebound: never `stack.append(pop_mark())`)
            stack.append(tuple(items))
        elif op in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(op[-1])
            group = tuple(stack[-n:])
            del stack[-n:]
            stack.append(group)
        elif op in ("LIST", "FROZENSET"):
            items = pop_mark()
            stack.append(items)
        elif op == "DICT":
            items = pop_mark()
            stack.append(_pairs(items))
        elif op == "APPEND":
            value = stack.pop()
            if isinstance(stack[-1], list):
                stack[-1].append(value)
        elif op in ("APPENDS", "ADDITEMS"):
            items = pop_mark()
            if isinstance(stack[-1], list):
                stack[-1].extend(items)
        elif op == "SETITEM":
            value = stack.pop()
            key = stack.pop()
            _set(stack[-1], key, value)
        elif op == "SETITEMS":
            items = pop_mark()
            for key, value in zip(items[::2], items[1::2], strict=False):
                _set(stack[-1], key, value)
        elif op == "POP":
            stack.pop()
        elif op == "POP_MARK":
            pop_mark()
        elif op == "DUP":
            stack.append(stack[-1])
        elif op in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[_index(arg)] = stack[-1]
        elif op == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif op in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo[_index(arg)])
        elif op == "GLOBAL":
            module, _, name = str(arg).partition(" ")
            globals_seen.append(f"{module}.{name}")
            stack.append(_Global(f"{module}.{name}"))
        elif op == "STACK_GLOBAL":
            name = stack.pop()
            module = stack.pop()
            globals_seen.append(f"{module}.{name}")
            stack.append(_Global(f"{module}.{name}"))
        elif op in ("REDUCE", "NEWOBJ"):
            args = stack.pop()
            func = stack.pop()
            stack.append(_call(func, args))
        elif op == "NEWOBJ_EX":
            stack.pop()  # kwargs
            args = stack.pop()
            func = stack.pop()
            stack.append(_call(func, args))
        elif op == "OBJ":
            items = pop_mark()
            stack.append(_call(items[0], tuple(items[1:])) if items else Opaque("?"))
        elif op == "INST":
            module, _, name = str(arg).partition(" ")
            globals_seen.append(f"{module}.{name}")
            items = pop_mark()
            stack.append(_call(_Global(f"{module}.{name}"), tuple(items)))
        elif op == "BUILD":
            state = stack.pop()
            target = stack[-1]  # a dict's BUILD state is attributes (a state_dict's _metadata), not items
            if isinstance(target, Opaque) and target.args is None:
                target.args = state
        elif op in ("BINPERSID", "PERSID"):
            pid = stack.pop() if op == "BINPERSID" else arg
            if storages is not None:
                storages.append(pid)
            stack.append(_Storage())
        elif op in ("EXT1", "EXT2", "EXT4"):
            stack.append(_Global(f"<extension {arg}>"))
        elif op == "STOP":
            return (stack[-1] if stack else None), globals_seen
        else:
            raise UnsupportedPickle(f"opcode {op}")
    raise UnsupportedPickle("no STOP opcode")


def _index(arg: Any) -> int:
    """A memo index from an opcode argument (an int for every memo opcode of a sound pickle)."""
    if not isinstance(arg, int):
        raise UnsupportedPickle(f"memo index {arg!r}")
    return arg


def _pairs(items: list[Any]) -> dict:
    out: dict = {}
    for key, value in zip(items[::2], items[1::2], strict=False):
        _set(out, key, value)
    return out


def _set(target: Any, key: Any, value: Any) -> None:
    if isinstance(target, dict):
        try:
            target[key] = value
        except TypeError:  # unhashable key (a list): keep its text
            target[repr(key)] = value


def _call(func: Any, args: Any) -> Any:
    name = func.name if isinstance(func, _Global) else "?"
    if name in TENSOR_REBUILDERS:
        return TENSOR
    if name == "collections.OrderedDict":
        result: dict = {}
        if isinstance(args, tuple) and args and isinstance(args[0], list):
            for item in args[0]:
                if isinstance(item, tuple) and len(item) == 2:
                    _set(result, item[0], item[1])
        return result
    if name in ("builtins.set", "builtins.frozenset", "builtins.list", "builtins.tuple", "torch.Size"):
        if isinstance(args, tuple) and args and isinstance(args[0], (list, tuple)):
            return list(args[0]) if name != "torch.Size" else tuple(args[0])
        return []
    if name == "_codecs.encode":  # how protocols 0-2 store bytes: encode(text, 'latin1'), pure string work
        if isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str) and args[1] in ("latin1", "latin-1"):
            return args[0].encode("latin-1")
        return b""
    if name == "builtins.bytes":
        return b""
    return Opaque(name, args)


def keys_of(obj: Any) -> list[str]:
    """Top-level keys of a skeleton dict, as text."""
    return [str(k) for k in obj] if isinstance(obj, dict) else []


def with_placeholder_tensors(obj: Any, tensor: Any) -> Any:
    """The skeleton with every :data:`TENSOR` replaced by ``tensor`` (a real empty tensor) and every
    bare global (a dtype such as ``torch.qint8``) by its dotted name, so that detectors written for
    loaded objects (``isinstance(x, torch.Tensor)``) can judge it."""
    if obj is TENSOR:
        return tensor
    if isinstance(obj, _Global):
        return obj.name
    if isinstance(obj, dict):
        return {k: with_placeholder_tensors(v, tensor) for k, v in obj.items()}
    if isinstance(obj, list):
        return [with_placeholder_tensors(v, tensor) for v in obj]
    if isinstance(obj, tuple):
        return tuple(with_placeholder_tensors(v, tensor) for v in obj)
    return obj


def global_name(obj: Any) -> str | None:
    """``"module.Name"`` for a global the pickle pushed (a storage type, a dtype...), else None."""
    return obj.name if isinstance(obj, _Global) else None


@dataclass(frozen=True)
class TreeShape:
    """How a skeleton is built: nesting ``depth``, distinct ``containers``, ``expanded`` size (every
    value counted as often as it is reached: shared references multiply it) and whether a container
    ``cyclic``-ly contains itself."""

    depth: int
    containers: int
    expanded: int
    cyclic: bool


def tree_shape(obj: Any) -> TreeShape:
    """Measure a skeleton without recursion (a hostile pickle may nest 100,000 levels deep)."""
    done: dict[int, tuple[int, int]] = {}  # id -> (depth, expanded size) of a finished container
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(obj, False)]
    while stack:
        node, finished = stack.pop()
        children = _children(node)
        if children is None or (not finished and id(node) in done):
            continue
        if finished:
            active.discard(id(node))
            depth, size = 0, 1
            for child in children:
                child_depth, child_size = done.get(id(child), (0, 1)) if _children(child) is not None else (0, 1)
                depth, size = max(depth, child_depth), size + child_size
            done[id(node)] = (depth + 1, size)
            continue
        if id(node) in active:
            return TreeShape(0, len(done), 0, cyclic=True)
        active.add(id(node))
        stack.append((node, True))
        for child in children:
            if _children(child) is not None:
                if id(child) in active:
                    return TreeShape(0, len(done), 0, cyclic=True)
                if id(child) not in done:
                    stack.append((child, False))
    depth, size = done.get(id(obj), (0, 1))
    return TreeShape(depth, len(done), size, cyclic=False)


def _children(node: Any) -> list[Any] | None:
    if isinstance(node, dict):
        return [*node.keys(), *node.values()]
    if isinstance(node, (list, tuple)):
        return list(node)
    if isinstance(node, Opaque):
        return [node.args]
    return None
