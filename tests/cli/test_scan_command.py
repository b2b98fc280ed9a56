"""``pfdtrain scan``: legacy references by file and symbol, checkpoint layouts read without
unpickling, migration commands, and the ``--json`` schema."""

from __future__ import annotations

import json
import pickle
import shutil
import types
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from pfdtrain.cli import scan as scan_module
from pfdtrain.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
ZOO = ROOT / "golden" / "training" / "checkpoints_v1"
MANIFEST = json.loads((ZOO / "manifest.json").read_text())
runner = CliRunner()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "train.py").write_text(
        "from training.cnn_trainer import CNNTrainer\nfrom training.cnn_losses import create_loss_function\n"
        "import training.optimizers as O\nopt = O.create_optimizer(p)\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_train.py").write_text(
        "from unittest import mock\n@mock.patch('training.cnn_trainer.CNNTrainer')\ndef test(m): pass\n")
    (tmp_path / "scripts" / "plain.py").write_text("import numpy  # training\n")
    shutil.copytree(ZOO, tmp_path / "checkpoints", ignore=shutil.ignore_patterns("*.json", "*.md"))
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01 not a torch file")
    monkeypatch.chdir(tmp_path)
    return tmp_path


READER = ("import torch\n\n\ndef evaluate(path, model):\n    checkpoint = torch.load(path, map_location='cpu')\n"
          "    model.load_state_dict(checkpoint['model_state_dict'])\n    return checkpoint.get('epoch', -1)\n")


def _no_unpickling(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("scan must not unpickle anything")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)


def test_json_report_lists_references_symbols_layouts_and_commands(repo, monkeypatch):
    _no_unpickling(monkeypatch)
    result = runner.invoke(app, ["scan", "--json", "."])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "pfdtrain.scan/1"
    assert set(data) == {"schema", "root", "python", "files", "symbols", "vendored", "legacy_packages",
                         "checkpoints", "readers", "commands"}
    assert data["python"] == {"files_scanned": 3, "files_parsed": 2, "files_with_references": 2, "failed": [],
                              "readers_files_parsed": 0}
    assert data["readers"] == []  # nothing in these files loads a checkpoint
    files = {f["path"]: f["references"] for f in data["files"]}
    assert [(r["line"], r["kind"], r["legacy"], r["status"]) for r in files["scripts/train.py"]] == [
        (1, "import", "training.cnn_trainer.CNNTrainer", "rewritten"),
        (2, "import", "training.cnn_losses.create_loss_function", "unmapped"),
        (3, "import", "training.optimizers", "rewritten"),
        (4, "attribute", "training.optimizers.create_optimizer", "rewritten"),
    ]
    symbols = {s["legacy"]: s for s in data["symbols"]}
    trainer = symbols["training.cnn_trainer.CNNTrainer"]
    assert trainer["compat"] == "pfdtrain.compat.cnn_trainer.CNNTrainer" and trainer["new"] == "pfdtrain.Trainer"
    assert {(u["path"], u["kind"]) for u in trainer["uses"]} == {("scripts/train.py", "import"),
                                                                ("tests/test_train.py", "string")}
    assert symbols["training.cnn_losses.create_loss_function"]["mapped"] is False
    assert data["commands"][0] == "pfdtrain codemod --diff ."
    assert "migrate-checkpoint --dry-run checkpoints/cnn_trainer_best_model.pth" in data["commands"]
    assert not (repo / MANIFEST["pwned_file_name"]).exists()  # the malicious payloads never ran


def test_every_zoo_checkpoint_gets_the_manifest_layout_without_unpickling(repo, monkeypatch):
    _no_unpickling(monkeypatch)
    report = scan_module.scan(Path("."))
    found = {Path(c["path"]).name: c for c in report.checkpoints}
    assert "weights.bin" not in found  # a .bin that is not a torch file is not a checkpoint
    for entry in MANIFEST["entries"]:
        record = found[entry["file"]]
        if entry["layout"] == "corrupt":
            assert record["error"] and record["command"] is None, entry["file"]
        elif entry["layout"] == "malicious":
            assert "io.open" in record["unsafe_globals"], entry["file"]
        else:
            assert record["layout"] == entry["layout"], entry["file"]
            assert record["command"] == f"migrate-checkpoint --dry-run checkpoints/{entry['file']}"
    assert found["train_cnn_script_posixpath_args.pth"]["unsafe_globals"] == ["pathlib.PosixPath"]
    assert found["cnn_trainer_best_model.pth"]["unsafe_globals"] == []
    assert found["legacy_nonzip_cnn_trainer_best_model.pth"]["serialization"] == "torch_legacy"
    assert not (repo / MANIFEST["pwned_file_name"]).exists()


def test_a_v2_checkpoint_needs_no_migration(tmp_path):
    from pfdtrain.checkpoint import new_checkpoint, save

    save(new_checkpoint(model={"state_dict": {"w": torch.zeros(2)}}), tmp_path / "run.pt")
    (record,) = scan_module.scan(tmp_path).checkpoints
    assert record["layout"] == "v2" and record["needs_migration"] is False and record["command"] is None


def test_the_layout_seam_hands_the_skeleton_to_the_migration_detector(repo, monkeypatch):
    from pfdtrain.migration import layouts

    seen = []

    def detect(obj, serialization="torch_zip"):
        seen.append((type(obj["model_state_dict"]["conv.weight"]), serialization))
        return types.SimpleNamespace(layout="from-migrate", evidence=("fake",))

    monkeypatch.setattr(layouts, "detect", detect)
    record = scan_module.scan_checkpoint(repo / "checkpoints" / "cnn_trainer_best_model.pth", "x.pth")
    assert record["layout"] == "from-migrate" and seen == [(torch.Tensor, "torch_zip")]


def test_human_report_has_the_three_parts(repo):
    result = runner.invoke(app, ["scan", "."])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Legacy `training` references: 5 in 2 of 3 Python files" in out
    assert "[UNMAPPED]" in out and "By symbol" in out
    assert "checkpoints/cnn_trainer_best_model.pth: cnn_trainer (torch_zip" in out
    assert "not plain data: io.open" in out
    assert "migrate-checkpoint --dry-run checkpoints/bare_state_dict.pth" in out


def test_scan_writes_nothing(repo):
    before = {p: p.stat().st_mtime_ns for p in repo.rglob("*")}
    runner.invoke(app, ["scan", "--json", "."])
    assert {p: p.stat().st_mtime_ns for p in repo.rglob("*")} == before


def test_every_json_field_is_documented(repo):
    (repo / "scripts" / "evaluate.py").write_text(READER)
    data = json.loads(runner.invoke(app, ["scan", "--json", "."]).stdout)
    doc = (ROOT / "docs" / "scan.md").read_text()
    fields = set(data) | set(data["python"]) | set(data["files"][0]["references"][0]) | set(data["symbols"][0])
    fields |= set(data["checkpoints"][0]) | set(data["readers"][0]) | set(data["readers"][0]["uses"][0])
    fields |= set(data["readers"][0]["edits"][0])
    assert sorted(f for f in fields if f"`{f}`" not in doc and f'"{f}"' not in doc) == []


def test_scan_lists_vendored_copies_and_the_legacy_package_apart(tmp_path):
    files = {
        "packages/core/__init__.py": "from . import training\n",
        "packages/core/training/__init__.py": "",
        "packages/core/training/cnn_trainer.py": "from training.cnn_losses import create_criterion\n",
        "milestones/m2/training/__init__.py": "",
        "milestones/m2/scripts/train.py": "from training.optimizers import create_optimizer\nimport training.losses\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    data = json.loads(runner.invoke(app, ["scan", "--json", str(tmp_path)]).stdout)
    assert data["vendored"] == [{"copy": "milestones/m2/training", "references": 2,
                                 "files": ["milestones/m2/scripts/train.py"]}]
    assert data["legacy_packages"] == [{"path": "packages/core/training", "files": 1}]
    assert {s["legacy"] for s in data["symbols"]} == {"training"}  # the parent import only
    doc = (ROOT / "docs" / "scan.md").read_text()
    fields = set(data["vendored"][0]) | set(data["legacy_packages"][0])
    assert sorted(f for f in fields if f"`{f}`" not in doc and f'"{f}"' not in doc) == []
    text = runner.invoke(app, ["scan", str(tmp_path)]).stdout
    assert "Legacy `training` references: 1 in 1 of 5 Python files (and 2 that resolve to vendored copies)" in text
    assert "[VENDORED]" in text and "milestones/m2/training: 2 reference(s) in 1 file(s)" in text
    assert "The legacy package is still here: packages/core/training" in text
    with_copies = json.loads(runner.invoke(app, ["scan", "--json", "--include-vendored", str(tmp_path)]).stdout)
    assert with_copies["vendored"] == [] and "training.optimizers.create_optimizer" in {
        s["legacy"] for s in with_copies["symbols"]}


def test_readers_of_v1_keys_are_reported_with_the_v2_lines_to_write(repo, monkeypatch):
    _no_unpickling(monkeypatch)
    (repo / "scripts" / "evaluate.py").write_text(READER)
    (repo / "scripts" / "v2_reader.py").write_text(
        "import torch\nckpt = torch.load('best.pt')\nweights = ckpt['model']['state_dict']\n")
    data = json.loads(runner.invoke(app, ["scan", "--json", "."]).stdout)
    [reader] = data["readers"]
    assert reader["message"] == "scripts/evaluate.py:5 reads checkpoints with v1 keys ('model_state_dict', 'epoch')"
    assert (reader["call"], reader["keys"], reader["state_dict"]) == \
        ("torch.load", ["model_state_dict", "epoch"], False)
    assert [(e["line"], e["old"], e["new"]) for e in reader["edits"]] == [
        (5, "torch.load(path, map_location='cpu')", "load_any(path, map_location='cpu')"),
        (6, "checkpoint['model_state_dict']", "checkpoint['model']['state_dict']"),
        (7, "checkpoint.get('epoch', -1)", "(checkpoint['training']['epoch'] - 1)"),
    ]
    assert reader["downgrade_layouts"][0] == "cnn_trainer"  # a layout of the repository's own files first
    assert data["python"]["readers_files_parsed"] == 2
    out = runner.invoke(app, ["scan", "."]).stdout
    assert "Checkpoint readers: 1" in out
    assert "scripts/evaluate.py:5 reads checkpoints with v1 keys ('model_state_dict', 'epoch')" in out
    assert "line 6: checkpoint['model_state_dict']  ->  checkpoint['model']['state_dict']" in out


def test_the_legacy_package_itself_is_not_searched_for_readers(tmp_path):
    reader = "import torch\ndef load(p, m):\n    m.load_state_dict(torch.load(p)['model_state_dict'])\n"
    (tmp_path / "packages" / "core" / "training").mkdir(parents=True)
    (tmp_path / "packages" / "core" / "training" / "cnn_trainer.py").write_text(reader)
    (tmp_path / "milestones" / "m1" / "training").mkdir(parents=True)
    (tmp_path / "milestones" / "m1" / "training" / "cnn_trainer.py").write_text(reader)
    report = scan_module.scan(tmp_path)
    assert [r.path for r in report.readers] == ["milestones/m1/training/cnn_trainer.py"]  # a vendored copy runs
