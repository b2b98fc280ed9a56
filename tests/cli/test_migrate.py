"""The migrate-checkpoint command on copies of the real zoo (golden/ itself is never touched)."""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from pfdtrain.checkpoint import load, new_checkpoint, save
from pfdtrain.cli.app import app, migrate_checkpoint_main
from pfdtrain.cli.migrate import run_migrate
from zoo_manifest import CORRUPT, ENTRIES, LOADABLE, MUST_REFUSE, PWNED, ZOO, copy_zoo, pwned_markers

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
runner = CliRunner()
#: manifest "serialization" of a corrupt file -> the failure kind the summary must name.
CORRUPT_KIND = {"truncated_torch_zip": "truncated", "empty": "empty", "text": "lfs-pointer"}


def _listing(folder: Path):
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*"))


def _invoke(*args):
    return runner.invoke(app, ["migrate-checkpoint", *map(str, args)])


def test_a_zoo_folder_migrates_and_every_bad_file_is_named_with_a_nonzero_exit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = copy_zoo(tmp_path / "zoo")
    result = _invoke(folder, "--report", tmp_path / "report.json")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for name in MUST_REFUSE:
        unsafe = ENTRIES[name]["weights_only_load"]["unsupported_global"]
        assert re.search(rf"FAILED \S*{re.escape(name)}: unsafe: .*{re.escape(unsafe)}", result.output), name
    for name in CORRUPT:
        kind = CORRUPT_KIND[ENTRIES[name]["serialization"]]
        assert re.search(rf"FAILED \S*{re.escape(name)}: {kind}:", result.output), name
    assert (folder / "not_a_checkpoint.pth").read_text().startswith("version https://git-lfs")
    failed = len(MUST_REFUSE) + len(CORRUPT)
    assert f"{len(ENTRIES)} files: {len(LOADABLE)} migrated, {failed} failed (" in result.output
    assert pwned_markers() == [] and not (tmp_path / PWNED).exists()
    for name in LOADABLE:  # each migrated file is v2 now, with the untouched original as backup
        assert load(folder / name)["format"] == "pfdtrain.checkpoint"
        assert (folder / f"{name}.v1.bak").read_bytes() == (ZOO / name).read_bytes()
    for name in MUST_REFUSE + CORRUPT:
        assert (folder / name).read_bytes() == (ZOO / name).read_bytes()
        assert not (folder / f"{name}.v1.bak").exists()

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exit_status"] == 1 and report["mode"] == "in-place"
    assert report["summary"]["by_status"] == {"migrated": len(LOADABLE), "failed": failed}
    assert report["summary"]["failed_by_kind"] == {"unsafe": 3, "truncated": 1, "empty": 1, "lfs-pointer": 1}
    by_name = {Path(entry["source"]).name: entry for entry in report["files"]}
    assert set(by_name) == set(ENTRIES)
    for name in LOADABLE:
        entry = by_name[name]
        assert entry["layout"] == ENTRIES[name]["layout"] and entry["verified"] and entry["backup"]
        assert entry["tensors"] == len(ENTRIES[name]["tensors"]) and entry["size"] == ENTRIES[name]["size_bytes"]
    for name in MUST_REFUSE:
        assert ENTRIES[name]["weights_only_load"]["unsupported_global"] in by_name[name]["unsafe_globals"]
    assert "traceback" not in by_name["empty.pth"]


def test_a_second_run_leaves_v2_files_untouched(tmp_path):
    folder = copy_zoo(tmp_path / "zoo", LOADABLE)
    assert _invoke(folder).exit_code == 0
    before = _listing(folder)
    again = _invoke(folder)
    assert again.exit_code == 0 and f"{len(LOADABLE)} files: {len(LOADABLE)} already v2, left untouched" in again.output
    assert _listing(folder) == before


def test_verbose_shows_evidence_and_tracebacks(tmp_path):
    folder = copy_zoo(tmp_path / "zoo", ["empty.pth", "cnn_trainer_dataparallel_best_model.pth"])
    result = _invoke(folder, "--verbose", "--dry-run")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.output
    assert "detected: every weight key starts with 'module.'" in result.output


def test_dry_run_reports_layouts_and_changes_and_writes_nothing(tmp_path):
    folder = copy_zoo(tmp_path / "zoo", LOADABLE)
    before = _listing(folder)
    result = _invoke(folder, "--dry-run")
    assert result.exit_code == 0, result.output
    assert _listing(folder) == before
    for name in LOADABLE:
        assert re.search(rf"would migrate \S*{re.escape(name)} \(layout {re.escape(ENTRIES[name]['layout'])}\)",
                         result.output), name
    assert "model_state_dict -> model.state_dict (4 entries, prefix 'module.' removed)" in result.output
    assert "args.data_path: pathlib.WindowsPath -> plain data" in result.output


def test_check_exit_codes_for_ci(tmp_path):
    folder = copy_zoo(tmp_path / "zoo", ["cnn_trainer_best_model.pth", "bare_state_dict.pth"])
    before = _listing(folder)
    needs = _invoke(folder, "--check")
    assert needs.exit_code == 1 and "--check: 2 file(s) still need migrating" in needs.output
    assert _listing(folder) == before
    assert _invoke(folder).exit_code == 0
    assert _invoke(folder, "--check").exit_code == 0
    save(new_checkpoint(), tmp_path / "only_v2" / "a.pt")
    assert _invoke(tmp_path / "only_v2", "--check").exit_code == 0


def test_output_folder_mirrors_the_tree_verifies_and_leaves_sources_alone(tmp_path):
    source = tmp_path / "runs"
    copy_zoo(source / "exp1", ["cnn_trainer_best_model.pth"])
    copy_zoo(source / "exp2" / "deep", ["quantized_model_int8.pth"])
    before = _listing(source)
    result = _invoke(source, "--output", tmp_path / "v2", "--verify")
    assert result.exit_code == 0, result.output
    assert _listing(source) == before
    assert result.output.count("(verified)") == 2
    assert load(tmp_path / "v2" / "exp1" / "cnn_trainer_best_model.pth")["training"]["epoch"] == 2
    assert load(tmp_path / "v2" / "exp2" / "deep" / "quantized_model_int8.pth")["extra"]["quantized"] is True


def test_jobs_2_gives_the_same_results_as_one_job(tmp_path):
    reports = []
    for jobs in ("1", "2"):
        folder = copy_zoo(tmp_path / f"zoo{jobs}")
        _invoke(folder, "--jobs", jobs, "--report", tmp_path / f"r{jobs}.json")
        files = json.loads((tmp_path / f"r{jobs}.json").read_text())["files"]
        reports.append([(Path(f["source"]).name, f["status"], f["layout"], f["error_kind"]) for f in files])
    assert reports[0] == reports[1] and len(reports[0]) == len(ENTRIES)


def test_include_and_exclude_globs_pick_files_in_folders(tmp_path):
    folder = tmp_path / "runs"
    for rel in ("a.pth", "b.pt", "c.ckpt", "d.bin", "sub/e.pth", "sub/keep.pth"):
        copy_zoo(folder / Path(rel).parent, ["bare_state_dict.pth"])
        (folder / Path(rel).parent / "bare_state_dict.pth").rename(folder / rel)
    result = _invoke(folder, "--include", "*.pth", "--exclude", "sub/e.*", "--dry-run")
    assert result.exit_code == 0
    assert sorted(re.findall(r"would migrate \S*?(\w+\.\w+) ", result.output)) == ["a.pth", "keep.pth"]
    default = _invoke(folder, "--dry-run")
    assert "5 files: 5 would migrate" in default.output  # *.pt, *.pth, *.ckpt by default; not .bin


def test_allow_global_admits_exactly_the_listed_names(tmp_path):
    path = tmp_path / "stats.pth"
    torch.save({"model_state_dict": {"w": torch.ones(2)}, "mean": np.arange(3, dtype=np.float64)}, path)
    refused = _invoke(path, "--report", tmp_path / "r.json")
    assert refused.exit_code == 1 and "numpy.ndarray" in refused.output
    names = json.loads((tmp_path / "r.json").read_text())["files"][0]["unsafe_globals"]
    admitted = _invoke(path, *[arg for name in names for arg in ("--allow-global", name)])
    assert admitted.exit_code == 0, admitted.output
    assert torch.equal(load(path)["extra"]["mean"], torch.arange(3, dtype=torch.float64))
    bad = _invoke(path, "--allow-global", "no_such_module.Thing")
    assert bad.exit_code == 2 and "no importable object" in bad.output


def test_trust_unsafe_migrates_a_pickled_module_after_a_loud_warning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = copy_zoo(tmp_path / "zoo", ["whole_module_pickle.pth"])
    assert _invoke(folder).exit_code == 1
    result = _invoke(folder, "--trust-unsafe")
    assert result.exit_code == 0, result.output
    assert "WARNING: --trust-unsafe loads files with full pickle" in result.output
    assert load(folder / "whole_module_pickle.pth")["model"]["architecture"].endswith("Sequential")


def test_downgrade_needs_an_output_folder_and_a_known_layout(tmp_path):
    folder = copy_zoo(tmp_path / "zoo", ["train_cnn_script_best.pth"])
    assert _invoke(folder).exit_code == 0
    no_output = _invoke(folder, "--downgrade", "scripts.train_cnn")
    assert no_output.exit_code == 2 and "--downgrade needs --output" in no_output.output
    unknown = _invoke(folder, "--downgrade", "keras", "--output", tmp_path / "v1")
    assert unknown.exit_code == 2 and "cnn_trainer" in unknown.output
    done = _invoke(folder, "--downgrade", "scripts.train_cnn", "--output", tmp_path / "v1")
    assert done.exit_code == 0 and "downgraded" in done.output
    raw = torch.load(tmp_path / "v1" / "train_cnn_script_best.pth", weights_only=True)
    assert list(raw) == ENTRIES["train_cnn_script_best.pth"]["top_level_keys"] and raw["epoch"] == 0


def test_missing_paths_are_reported(tmp_path):
    result = _invoke(tmp_path / "nowhere.pth")
    assert result.exit_code == 1 and re.search(r"FAILED \S*nowhere.pth: missing", result.output)


def test_the_console_script_entry_point(tmp_path, capsys):
    save(new_checkpoint(), tmp_path / "a.pt")
    with pytest.raises(SystemExit) as raised:
        migrate_checkpoint_main([str(tmp_path), "--check"])
    assert raised.value.code == 0 and "already v2" in capsys.readouterr().out


def test_progress_bar_shows_bytes_per_second(tmp_path):
    folder = copy_zoo(tmp_path / "zoo", ["real_arch_lightweight_attention_cnn.pth"])
    err = io.StringIO()
    code = run_migrate([folder], progress=True, console=Console(file=io.StringIO()),
                       err_console=Console(file=err, force_terminal=True, width=140))
    assert code == 0
    text = err.getvalue()
    assert re.search(r"\d+(\.\d+)? ?[kMG]?B/s", text) and "1/1 files" in text


# ---------------------------------------------------------------------- damaged, hostile and odd inputs

SRC = Path(__file__).resolve().parents[2] / "src"


def _command(*args, env=None, timeout=120, **kwargs):
    """The real console command in a child process (a blocking open would hang it, not the suite)."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
                   **(env or {})}
    return subprocess.run([sys.executable, "-m", "pfdtrain", "migrate-checkpoint", *map(str, args), "--no-progress"],
                          capture_output=True, text=True, env=environment, timeout=timeout, **kwargs)


def test_a_damaged_file_is_named_and_nothing_is_written_in_any_mode(tmp_path):
    """The issue's example: conv.bias claims 12 elements in a 16-byte record."""
    import damaged_checkpoints as dc

    folder = copy_zoo(tmp_path / "zoo", ["cnn_trainer_best_model.pth"])
    bad = folder / "bad.pth"
    bad.write_bytes(dc.zip_with_storage_change("bare_state_dict.pth", 1, numel=12))
    original = bad.read_bytes()
    for args in (["--output", tmp_path / "out"], ["--dry-run"], []):
        result = _invoke(folder, *args)
        assert result.exit_code == 1, result.output
        assert re.search(r"FAILED \S*bad.pth: damaged: .*storage '1' claims 12 float32 elements", result.output)
        assert "(verified)" not in next(line for line in result.output.splitlines() if "bad.pth" in line)
        assert bad.read_bytes() == original and not (folder / "bad.pth.v1.bak").exists()
        assert not (tmp_path / "out" / "bad.pth").exists()
    assert (tmp_path / "out" / "cnn_trainer_best_model.pth").exists()  # the good file next to it migrated


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_skipped_with_a_note_and_never_opened(tmp_path):
    os.mkfifo(tmp_path / "stream.pth")
    named = _command(tmp_path / "stream.pth", timeout=60)
    assert named.returncode == 1, named.stdout + named.stderr
    assert re.search(r"SKIPPED \S*stream.pth: not-a-file: .*is a named pipe \(FIFO\)", named.stdout)
    assert "1 file: 1 skipped (1 not-a-file)" in named.stdout
    copy_zoo(tmp_path, ["bare_state_dict.pth"])
    folder = _command(tmp_path, timeout=60)  # found while searching a folder: the same note
    assert folder.returncode == 1 and "SKIPPED" in folder.stdout and "1 migrated" in folder.stdout


@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd (process substitution)")
def test_a_pipe_from_process_substitution_gets_a_clear_message(tmp_path):
    """What ``migrate-checkpoint <(cat f.pth)`` hands over: /dev/fd/N, a pipe."""
    read_end, write_end = os.pipe()
    try:
        done = _command(f"/dev/fd/{read_end}", pass_fds=(read_end,), timeout=60)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert done.returncode == 1
    assert "can be read only once and not memory-mapped: save it to a file first" in done.stdout
    assert "truncated" not in done.stdout


@pytest.mark.skipif(os.name != "posix", reason="symbolic links and /dev/null")
def test_folders_links_and_devices_named_like_checkpoints_are_skipped(tmp_path):
    folder = tmp_path / "runs"
    copy_zoo(folder, ["bare_state_dict.pth"])
    (folder / "dir.pth").mkdir()
    (folder / "loop.pth").symlink_to("loop.pth")
    (folder / "gone.pth").symlink_to("nowhere.pth")
    (folder / "null.pth").symlink_to(os.devnull)
    result = _invoke(folder, "--dry-run")
    assert result.exit_code == 1, result.output
    for name, why in (("dir.pth", "is a folder, not a checkpoint file"), ("loop.pth", "loops back"),
                      ("gone.pth", "link to a missing file"), ("null.pth", "a device file")):
        assert re.search(rf"SKIPPED \S*{re.escape(name)}: not-a-file: .*{why}", result.output), name
    assert "would migrate" in result.output


def test_names_the_terminal_cannot_encode_are_printed_escaped(tmp_path):
    copy_zoo(tmp_path, ["bare_state_dict.pth"])
    (tmp_path / "bare_state_dict.pth").rename(tmp_path / "ünï.pth")
    done = _command(tmp_path / "ünï.pth", env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "\\xfcn\\xef.pth" in done.stdout
    assert load(tmp_path / "ünï.pth")["format"] == "pfdtrain.checkpoint"


@pytest.mark.skipif(sys.platform != "linux", reason="file names as raw bytes (Linux)")
def test_a_name_that_is_not_valid_utf8_is_printed_escaped(tmp_path):
    copy_zoo(tmp_path, ["bare_state_dict.pth"])
    os.rename(tmp_path / "bare_state_dict.pth", os.fsencode(tmp_path) + b"/\xff.pth")
    done = _command(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "\\udcff.pth" in done.stdout
    with open(os.fsencode(tmp_path) + b"/\xff.pth", "rb") as handle:
        assert torch.load(handle, weights_only=True)["format"] == "pfdtrain.checkpoint"


def test_temporary_files_of_a_killed_run_are_removed_by_the_next_run_and_nothing_else(tmp_path):
    folder = copy_zoo(tmp_path / "zoo", ["bare_state_dict.pth"])
    stale = folder / ".bare_state_dict.pth.tmp-999999999-0123456789ab"
    stale.write_bytes(b"half a file")
    look_alike = folder / ".bare_state_dict.pth.tmp-999999999-notours"
    look_alike.write_bytes(b"someone else's")
    dry = _invoke(folder, "--dry-run")
    assert "would remove 1 temporary file(s) left by an interrupted run" in dry.output and stale.name in dry.output
    assert stale.exists()
    done = _invoke(folder)
    assert done.exit_code == 0 and "removed 1 temporary file(s) left by an interrupted run" in done.output
    assert not stale.exists() and look_alike.read_bytes() == b"someone else's"
