"""Fuzz: damaged and hostile variants of the zoo through the real ``migrate-checkpoint``, in every mode.

Each run puts a batch of variants (see ``tests/checkpoint_fuzz.py``) next to every good zoo file and
runs the command in a subprocess with a timeout, with ``--output``, in place and with ``--dry-run``.
Required for every variant: no crash (exit status 0 or 1, no traceback), no hang, its name in a
FAILED or SKIPPED line, no output and no backup, the input untouched, no temporary file left, no
payload run; for every good file: migrated, and losslessly (a plain ``torch.load(weights_only=True)``
of the output holds the original's tensors, byte for byte).

The test runs a seeded sample; ``PFDTRAIN_FUZZ_ALL=1`` runs all 315 variants, and
``python tests/migration/test_migrate_fuzz.py [seed]`` prints the counts by class of variant.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, when run as a script

from checkpoint_fuzz import Variant, non_regular, variants
from zoo_manifest import LOADABLE, ZOO, copy_zoo

REPO = Path(__file__).resolve().parents[2]
MODES = ("output", "in-place", "dry-run")
BATCH = 40
TIMEOUT = 240

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)"),
    # torch's own notices (TypedStorage, quantized tensors) while the good zoo files are read in-process
    pytest.mark.filterwarnings("ignore::UserWarning:torch"),
]

CLASSIFY = r"""
import hashlib, json, sys, torch
def digests(obj):
    found, stack = [], [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            t = item.detach()
            t = t.int_repr() if t.is_quantized else t
            raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
            found.append([str(item.dtype), list(item.shape), hashlib.sha256(raw).hexdigest()])
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return sorted(found)
out = {}
for path in sys.argv[1:]:
    try:
        out[path] = digests(torch.load(path, weights_only=True))
    except BaseException:
        out[path] = None
print(json.dumps(out))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
            "PYTHONIOENCODING": "utf-8"}


def torch_accepts(paths: list[Path]) -> dict[str, list | None]:
    """What a plain ``torch.load(path, weights_only=True)`` makes of each file (in a child process): the
    sorted (dtype, shape, sha256) of its tensors, or None when torch refuses it."""
    done = subprocess.run([sys.executable, "-c", CLASSIFY, *map(str, paths)], capture_output=True, text=True,
                          timeout=TIMEOUT, env=_env())
    return json.loads(done.stdout.strip().splitlines()[-1])


def tensor_digests(obj: object) -> Counter:
    """(dtype, shape, sha256 of the bytes) of every tensor in a tree, counted."""
    import torch

    found: Counter = Counter()
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            t = item.detach()
            t = t.int_repr() if t.is_quantized else t
            raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
            found[(str(item.dtype), tuple(item.shape), hashlib.sha256(raw).hexdigest())] += 1
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def original_tensors(name: str) -> Counter:
    import torch

    from pfdtrain.migration.any_format import load_any

    del torch
    return tensor_digests(load_any(ZOO / name))


def run_cli(args: list[str], timeout: float = TIMEOUT) -> tuple[int | None, str]:
    try:
        done = subprocess.run([sys.executable, "-m", "pfdtrain", "migrate-checkpoint", *args, "--no-progress"],
                              capture_output=True, text=True, timeout=timeout, env=_env())
    except subprocess.TimeoutExpired as exc:
        return None, str(exc.stdout or "") + str(exc.stderr or "")
    return done.returncode, done.stdout + done.stderr


def named(output: str, name: str) -> bool:
    return any(line.startswith(("FAILED", "SKIPPED")) and name in line for line in output.splitlines())


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".tmp-" in p.name]


class Tally:
    """Problems by class of variant and invariant."""

    def __init__(self) -> None:
        self.problems: dict[str, Counter] = defaultdict(Counter)
        self.examples: dict[str, list[str]] = defaultdict(list)
        self.kinds: Counter = Counter()  # runs (a variant in one mode)
        self.variants: Counter = Counter()
        self.loadable: Counter = Counter()  # variants torch.load(weights_only=True) reads

    def add(self, kind: str, problem: str, detail: str) -> None:
        self.problems[kind][problem] += 1
        if len(self.examples[problem]) < 5:
            self.examples[problem].append(detail)

    def total(self) -> int:
        return sum(sum(c.values()) for c in self.problems.values())

    def table(self) -> str:
        problems = sorted({p for c in self.problems.values() for p in c})
        lines = ["class".ljust(24) + "variants  torch-reads  runs " + " ".join(p[:14].rjust(14) for p in problems)]
        lines.extend(kind.ljust(24) + str(self.variants[kind]).rjust(8) + str(self.loadable[kind]).rjust(13)
                     + str(self.kinds[kind]).rjust(6) + " "
                     + " ".join(str(self.problems[kind][p]).rjust(14) for p in problems)
                     for kind in sorted(self.kinds))
        for problem, examples in self.examples.items():
            lines.append(f"  {problem}: " + "; ".join(examples))
        return "\n".join(lines)


def run_batch(batch: list[Variant], mode: str, work: Path, marker: Path, tally: Tally, good: dict[str, Counter],
              accepts: dict[str, list | None], explicit: bool = False) -> None:
    """One migrate-checkpoint run over a folder holding ``batch`` and every good zoo file.

    A variant torch refuses, or a hostile one (payload, nesting, not a regular file), must be named
    and never written. A variant torch reads (a flip in a field no reader checks) may instead be
    migrated, but then losslessly: its output holds exactly the tensors torch reads from it.
    """
    folder = work / "in"
    shutil.rmtree(work, ignore_errors=True)
    folder.mkdir(parents=True)
    copy_zoo(folder, LOADABLE)
    paths = {v.name: v.make(folder) for v in batch}
    regular = {name: p.read_bytes() for name, p in paths.items() if p.is_file() and not p.is_symlink()}
    before = {p.name for p in folder.iterdir()}
    args = [str(p) for p in paths.values()] if explicit else [str(folder)]
    if mode == "output":
        args += ["--output", str(work / "out")]
    elif mode == "dry-run":
        args += ["--dry-run"]
    code, output = run_cli(args, timeout=60 if explicit else TIMEOUT)
    label = f"{mode}{' (named)' if explicit else ''}"
    migrated: set[str] = set()
    for v in batch:
        tally.kinds[v.kind] += 1
        detail = f"{v.name} [{label}]"
        if code is None:
            tally.add(v.kind, "hang", detail)
            continue
        if code not in (0, 1) or "Traceback" in output:
            tally.add(v.kind, "crash", detail + " " + output[-300:].replace("\n", " | "))
        readable = accepts.get(v.name)
        bad = readable is None or v.kind in ("payload", "nesting", "non-regular")
        written = (work / "out" / v.name) if mode == "output" else (folder / v.name)
        if named(output, v.name):
            if v.name in regular and (folder / v.name).read_bytes() != regular[v.name]:
                tally.add(v.kind, "input changed", detail)
            if (work / "out" / v.name).exists() or (folder / f"{v.name}.v1.bak").exists():
                tally.add(v.kind, "output written", detail)
        elif bad:
            tally.add(v.kind, "not named", detail)
            if (work / "out" / v.name).exists() or (folder / f"{v.name}.v1.bak").exists():
                tally.add(v.kind, "output written", detail)
        elif mode != "dry-run":
            migrated.add(v.name)
            if not lossless(written, Counter(tuple(map(_hashable, d)) for d in readable or [])):
                tally.add(v.kind, "lossy output", detail)
        if marker.exists():
            tally.add(v.kind, "payload ran", detail)
            marker.unlink()
    if code is None:
        return
    if temp_files(work):
        tally.add("(run)", "leftover temp files", f"{label}: {[p.name for p in temp_files(work)][:3]}")
    extra = {p.name for p in folder.iterdir()} - before - {f"{n}.v1.bak" for n in (*LOADABLE, *migrated)}
    if extra:
        tally.add("(run)", "leftover files", f"{label}: {sorted(extra)[:3]}")
    for name in [] if explicit else LOADABLE:
        tally.kinds["good zoo file"] += 1
        if mode == "dry-run":
            if not any(line.startswith("would migrate") and name in line for line in output.splitlines()):
                tally.add("good zoo file", "not migrated", f"{name} [{label}]")
            continue
        written = (work / "out" / name) if mode == "output" else (folder / name)
        if not lossless(written, good[name]):
            tally.add("good zoo file", "not lossless", f"{name} [{label}]")


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def lossless(path: Path, expected: Counter) -> bool:
    import torch

    try:
        loaded = torch.load(path, weights_only=True)
    except Exception:
        return False
    return loaded.get("format") == "pfdtrain.checkpoint" and tensor_digests(loaded) == expected


def fuzz(seed: int, sample: int | None, work_root: Path) -> Tally:
    marker = work_root / "pfdtrain_pwned"
    every = variants(seed, marker)
    chosen = every if sample is None else every[::max(1, len(every) // sample)] + [
        v for v in every if not v.regular and v not in every[::max(1, len(every) // sample)]]
    good = {name: original_tensors(name) for name in LOADABLE}
    tally = Tally()
    staging = work_root / "staging"
    staging.mkdir()
    regular_paths = {v.name: v.make(staging) for v in chosen if v.regular}
    verdict = torch_accepts(list(regular_paths.values()))
    accepts = {name: verdict[str(path)] for name, path in regular_paths.items()}
    for v in chosen:
        tally.variants[v.kind] += 1
        if v.regular and accepts[v.name] is not None:
            tally.loadable[v.kind] += 1
    shutil.rmtree(staging)
    regular = [v for v in chosen if v.regular]
    batches = [regular[i:i + BATCH] for i in range(0, len(regular), BATCH)]
    special = [v for v in chosen if not v.regular]
    for mode in MODES:
        for index, batch in enumerate(batches):
            run_batch(batch, mode, work_root / f"{mode}{index}", marker, tally, good, accepts)
        run_batch(special, mode, work_root / f"{mode}_special", marker, tally, good, accepts)
        # Named on the command line (a FIFO must not block): one per run for the full fuzz, all in one
        # run for the sample.
        for group in ([[v] for v in special] if sample is None else [special]):
            run_batch(group, mode, work_root / f"{mode}_named_{group[0].name}", marker, tally, good, accepts,
                      explicit=True)
    return tally


def test_damaged_and_hostile_variants_are_named_and_never_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a payload writing to the working directory would show up here
    sample = None if os.environ.get("PFDTRAIN_FUZZ_ALL") else 40
    tally = fuzz(seed=20261205, sample=sample, work_root=tmp_path)
    assert tally.total() == 0, "\n" + tally.table()
    assert not (tmp_path / "pfdtrain_pwned").exists()


def test_the_variants_cover_every_class_and_torch_rejects_the_damaged_ones(tmp_path):
    """The fuzz is only as good as its variants: most of each damage class must be damage torch sees too."""
    every = variants(20261205, tmp_path / "marker")
    assert len(every) == 315
    assert {v.kind for v in every} >= {"truncation", "flip:local_header", "flip:central_directory",
                                       "central-directory", "storage-claim", "storage-key", "payload",
                                       "nesting", "non-regular"}
    folder = tmp_path / "v"
    folder.mkdir()
    claims = [v for v in every if v.kind in ("storage-claim", "truncation")]
    verdict = torch_accepts([v.make(folder) for v in claims])
    assert sum(found is None for found in verdict.values()) >= 0.8 * len(claims)


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 20261205
    with tempfile.TemporaryDirectory() as root:
        os.chdir(root)
        result = fuzz(seed, None, Path(root))
        print(result.table())
        print("problems:", result.total())
    del non_regular
