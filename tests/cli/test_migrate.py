"""The migrate-checkpoint command on copies of the real zoo (golden/ itself is never touched)."""

import io
import json
import re
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
