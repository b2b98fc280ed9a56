"""``pfdtrain codemod`` vs libcst's ``RenameCommand``, time per file, measured in the same run.

Corpus: ``codemod_corpus.generate`` (2,000 files, seed 0: 5% import legacy names, 30% more
contain the word "training" for other reasons). Baseline: ``python -m libcst.tool codemod
rename.RenameCommand -j 1 --no-format`` renaming one symbol on a 200-file slice of the same corpus
(every tenth file, so the slice has the corpus' mix); it parses every file it is given. Candidate:
``python -m pfdtrain codemod -j 1`` over all 2,000 files with the whole mapping table (fresh copy
per round, copying untimed; both as fresh processes, start-up included). Target: >= 100x faster
per file. Run: ``PYTHONPATH=src:. python -m pytest benchmarks/test_codemod_bench.py -q -s``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codemod_corpus import generate

ROOT = Path(__file__).resolve().parents[1]
FILES, SLICE = 2000, 200


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))


def _timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert out.returncode in (0, 1), out.stderr[-2000:]
    return elapsed


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("codemod") / "corpus"
    generate(out, FILES, seed=0)
    return out


def _fresh(corpus: Path, target: Path, every: int = 1) -> Path:
    if target.exists():
        shutil.rmtree(target)
    files = sorted(corpus.rglob("*.py"))[::every]
    for path in files:
        dest = target / path.relative_to(corpus)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    return target


def _pfdtrain(corpus: Path, work: Path, jobs: int, rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        copy = _fresh(corpus, work / "candidate")
        times.append(_timed([sys.executable, "-m", "pfdtrain", "codemod", "-j", str(jobs), str(copy)], work))
    return statistics.median(times)


def test_codemod_per_file_vs_libcst_rename_command(benchmark, corpus, tmp_path):
    slice_dir = _fresh(corpus, tmp_path / "slice", every=FILES // SLICE)
    assert len(list(slice_dir.rglob("*.py"))) == SLICE
    # cwd = tmp_path: no .libcst.codemod.yaml above it, so libcst's defaults (its own commands) apply
    base = _timed([sys.executable, "-m", "libcst.tool", "codemod", "rename.RenameCommand", "-j", "1", "--no-format",
                   "--hide-progress", str(slice_dir), "--old_name", "training.cnn_trainer.CNNTrainer",
                   "--new_name", "pfdtrain.compat.cnn_trainer.CNNTrainer"], tmp_path)
    cand = _pfdtrain(corpus, tmp_path, jobs=1)
    cand_j2 = _pfdtrain(corpus, tmp_path, jobs=2)
    per_base, per_cand, per_cand_j2 = base / SLICE, cand / FILES, cand_j2 / FILES
    ratio, ratio_j2 = per_base / per_cand, per_base / per_cand_j2
    benchmark.extra_info.update({"speedup_j1": round(ratio, 1), "speedup_j2": round(ratio_j2, 1), "target": ">= 100",
                                 "rename_s_per_file": per_base, "pfdtrain_j1_s": cand, "pfdtrain_j2_s": cand_j2})
    print(f"\nRenameCommand -j 1: {base:.1f} s for {SLICE} files ({per_base * 1e3:.0f} ms/file); "
          f"pfdtrain codemod -j 1: {cand:.2f} s for {FILES} files ({per_cand * 1e3:.2f} ms/file) -> {ratio:.0f}x "
          f"faster per file (target >= 100x); -j 2: {cand_j2:.2f} s -> {ratio_j2:.0f}x")
    copy = tmp_path / "candidate"
    benchmark.pedantic(lambda: _timed([sys.executable, "-m", "pfdtrain", "codemod", "-j", "1", str(copy)], tmp_path),
                       setup=lambda: _fresh(corpus, copy) and None, rounds=1, iterations=1)
