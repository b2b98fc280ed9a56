"""migrate-checkpoint on a 1 GB v1 checkpoint: wall time against copying the file, private memory.

Targets (issue 7): an in-place migration (check every record of the input, load memory-mapped,
upgrade, write, fsync, verify: record checks and a CRC-32 of every record read back from the new
file, every value compared; back up, rename) takes <= 1.3x a durable copy of the file (a kernel
copy + ``fsync``, what ``cp`` then ``sync`` do), and its peak private memory growth (``RssAnon``)
stays <= 10% of the file size. The naive way, ``torch.load`` into RAM then ``torch.save``, is measured next to it as
the baseline. Everything is a ratio measured in the same run; nothing asserts on time.

Run: ``PYTHONPATH=src .venv/bin/python -m pytest benchmarks/test_migrate_bench.py -q -s``
(``PFDTRAIN_BENCH_GB=4`` for a bigger file). The file lives in a temporary folder and is deleted.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from pfdtrain.migration.migrate import MigrationOptions, migrate_file

GIB = 1 << 30
SIZE = int(float(os.environ.get("PFDTRAIN_BENCH_GB", "1")) * GIB)
ROUNDS = 5
STATUS = Path("/proc/self/status")

pytestmark = pytest.mark.skipif(not STATUS.exists(), reason="reads RssAnon from /proc/self/status (Linux)")


@pytest.fixture(scope="module")
def big_v1(tmp_path_factory):
    """A CNNTrainer-layout v1 file of SIZE bytes of weights (four tensors), deleted afterwards."""
    folder = tmp_path_factory.mktemp("migrate_bench")
    path = folder / "best_model.pth"
    numel = SIZE // 4 // 4
    weights = {f"layer{i}.weight": torch.full((numel,), float(i) + 0.5) for i in range(4)}
    torch.save({"epoch": 9, "model_state_dict": weights,
                "optimizer_state_dict": {"state": {}, "param_groups": [{"lr": 0.01, "params": [0, 1, 2, 3]}]},
                "best_val_acc": 91.0, "best_val_loss": 0.3, "history": {"train_loss": [1.0] * 10}}, path)
    del weights
    os.sync()
    yield path
    shutil.rmtree(folder, ignore_errors=True)


def durable_copy(source: Path, target: Path) -> None:
    """What ``cp`` then ``sync`` do: a kernel copy (``copy_file_range``, else ``sendfile``), fsynced."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        size, offset = os.fstat(src.fileno()).st_size, 0
        while offset < size:
            if hasattr(os, "copy_file_range"):
                offset += os.copy_file_range(src.fileno(), dst.fileno(), size - offset, offset)
            else:
                offset += os.sendfile(dst.fileno(), src.fileno(), offset, size - offset)
        dst.flush()
        os.fsync(dst.fileno())


def load_and_save(source: Path, target: Path) -> None:
    """The baseline: everything into RAM, then torch.save (fsynced too, for a fair comparison)."""
    obj = torch.load(source, weights_only=True)
    with open(target, "wb") as handle:
        torch.save(obj, handle)
        handle.flush()
        os.fsync(handle.fileno())


def migrate_in_place(path: Path) -> None:
    result = migrate_file(path)  # reads the file memory-mapped, writes a new one, verifies, backs up
    assert result.status == "migrated" and result.verified, result.error


def migrate_to(source: Path, target: Path) -> None:
    result = migrate_file(source, target, MigrationOptions())
    assert result.status == "migrated", result.error


class Workbench:
    """Prepares, runs and cleans each operation so that every run starts from the same state."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.work = source.parent / "work"
        self.work.mkdir(exist_ok=True)

    def operations(self) -> dict[str, Callable[[], None]]:
        out, in_place = self.work / "out.pth", self.work / "in_place.pth"
        return {
            "copy": lambda: durable_copy(self.source, out),
            "in_place": lambda: migrate_in_place(in_place),
            "to_output": lambda: migrate_to(self.source, out),
            "load_save": lambda: load_and_save(self.source, out),
        }

    def prepare(self, name: str) -> None:
        if name == "in_place":  # a hard link: the input is the original v1 file, nothing copied
            os.link(self.source, self.work / "in_place.pth")
        os.sync()

    def clean(self) -> None:
        for path in self.work.iterdir():
            path.unlink()
        os.sync()


def rss_anon_kib() -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise RuntimeError("no RssAnon in /proc/self/status")


def peak_rss_anon_growth(run: Callable[[], None]) -> int:
    """Bytes of private memory above the starting level at the worst moment of ``run``."""
    start = rss_anon_kib()
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_anon_kib())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        run()
    finally:
        done.set()
        sampler.join()
    peak[0] = max(peak[0], rss_anon_kib())
    return (peak[0] - start) * 1024


CHILD = """
import sys
sys.path[:0] = [{bench!r}]
import torch
import test_migrate_bench as bench
from pathlib import Path
torch.set_num_threads(1)
ops = bench.Workbench(Path({source!r})).operations()
print(bench.peak_rss_anon_growth(ops[{name!r}]))
"""


def growth_in_fresh_process(name: str, source: Path) -> int:
    """Peak RssAnon growth of one operation in a new interpreter (imports done before measuring),
    so that memory freed by earlier operations cannot hide new allocations."""
    code = CHILD.format(bench=str(Path(__file__).parent), source=str(source), name=name)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), *sys.path]))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


def test_migrating_1gb_vs_copying_it(benchmark, big_v1):
    bench = Workbench(big_v1)
    ops = bench.operations()
    times: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(ROUNDS):  # interleaved, so that drift of the disk affects all alike
        for name, run in ops.items():
            bench.prepare(name)
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
            bench.clean()
    memory = {}
    for name in ("in_place", "to_output", "load_save"):
        bench.prepare(name)
        memory[name] = growth_in_fresh_process(name, big_v1)
        bench.clean()

    median = {name: statistics.median(values) for name, values in times.items()}
    size = big_v1.stat().st_size
    rows = [
        ("in-place migration (verify + backup) / durable copy", median["in_place"] / median["copy"], 1.3),
        ("migration to --output (verified too) / durable copy", median["to_output"] / median["copy"], None),
        ("baseline torch.load + torch.save / durable copy", median["load_save"] / median["copy"], None),
        ("in-place migration: peak RssAnon growth / file size", memory["in_place"] / size, 0.10),
        ("migration to --output: peak RssAnon growth / file size", memory["to_output"] / size, None),
        ("baseline: peak RssAnon growth / file size", memory["load_save"] / size, None),
    ]
    print(f"\nmigrate-checkpoint, {size / GIB:.2f} GiB v1 file, medians of {ROUNDS} interleaved rounds; "
          f"durable copy {median['copy']:.2f} s")
    for label, ratio, target in rows:
        print(f"  {label}: {ratio:.3f}" + (f" (target <= {target})" if target else " (info)"))
    print("  peak RssAnon growth, MiB: " + ", ".join(f"{name} {value / 2**20:.1f}" for name, value in memory.items()))
    benchmark.extra_info.update({
        "file_bytes": size,
        "seconds": {name: round(value, 3) for name, value in median.items()},
        "ratios": {label: round(ratio, 4) for label, ratio, _ in rows},
    })
    bench.prepare("to_output")
    benchmark.pedantic(ops["to_output"], rounds=1, iterations=1)
    bench.clean()
