"""load_any: v2 files as load() gives them, v1 files upgraded in memory, the rest refused clearly."""

import pytest
import torch

import pfdtrain.checkpoint as ckpt
from pfdtrain.checkpoint import (
    CheckpointVersionError,
    UnknownLayoutError,
    UnsafeCheckpointError,
    load,
    load_any,
    new_checkpoint,
    save,
)
from zoo_manifest import ENTRIES, ZOO, copy_zoo, pwned_markers

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_exported_from_the_package():
    assert ckpt.load_any is load_any and "load_any" in ckpt.__all__


def test_a_v2_file_comes_back_as_load_gives_it(tmp_path):
    path = save(new_checkpoint(model={"state_dict": {"w": torch.arange(3.0)}}, training={"epoch": 2}),
                tmp_path / "a.pt")
    via_any, via_load = load_any(path), load(path)
    assert list(via_any) == list(via_load) and via_any["training"] == via_load["training"]
    assert torch.equal(via_any["model"]["state_dict"]["w"], torch.arange(3.0))


def test_a_v1_file_is_upgraded_in_memory_and_left_untouched(tmp_path):
    name = "cnn_trainer_best_model_with_scheduler.pth"
    path = copy_zoo(tmp_path, [name]) / name
    before = path.read_bytes()
    v2 = load_any(path)
    assert v2["format"] == "pfdtrain.checkpoint" and v2["training"]["epoch"] == 2
    assert v2["scheduler"]["last_epoch"] == ENTRIES[path.name]["content"]["scheduler_state_dict"]["last_epoch"]
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_files_of_no_known_layout_say_what_they_hold(tmp_path):
    torch.save(torch.ones(2, 3), tmp_path / "tensor.pt")
    torch.save({"notes": "no weights here", "epoch": 3}, tmp_path / "notes.pt")
    with pytest.raises(UnknownLayoutError, match=r"a single Tensor\(shape=\[2, 3\]"):
        load_any(tmp_path / "tensor.pt")
    with pytest.raises(UnknownLayoutError, match="'notes', 'epoch'"):
        load_any(tmp_path / "notes.pt")


def test_a_newer_major_format_is_refused(tmp_path):
    future = {**new_checkpoint(), "format_version": "3.0"}
    torch.save(future, tmp_path / "future.pt")
    with pytest.raises(CheckpointVersionError, match="Upgrade pfdtrain"):
        load_any(tmp_path / "future.pt")


def test_a_malicious_file_is_refused_by_load_any_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsafeCheckpointError):
        load_any(ZOO / "malicious_checkpoint_open_payload.pth")
    assert pwned_markers() == []


def _with_a_weight_byte_flipped(name: str) -> bytes:
    """A zoo file with one bit of its first tensor storage's data flipped (sizes and names intact)."""
    import damaged_checkpoints as dc

    data = dc.zoo_bytes(name)
    storage = next(m for m in dc.members(data) if m.name.rsplit(b"/", 2)[-2:-1] == [b"data"] and m.data)
    return dc.flip(data, storage.data_offset + len(storage.data) // 2)


def test_a_flipped_weight_byte_is_named_instead_of_loaded(tmp_path):
    # torch's own reader never checks record CRCs: without the record check this loads silently,
    # and a resumed run would train on from the damaged weights.
    from pfdtrain.checkpoint.errors import DamagedCheckpointError

    path = tmp_path / "flipped.pth"
    path.write_bytes(_with_a_weight_byte_flipped("cnn_trainer_best_model.pth"))
    with pytest.raises(DamagedCheckpointError, match="CRC-32"):
        load_any(path)


def test_a_resume_from_a_damaged_file_stops_before_training(tmp_path):
    from pfdtrain import Trainer
    from pfdtrain.checkpoint.errors import DamagedCheckpointError
    from zoo_manifest import TinyCNN

    path = tmp_path / "flipped.pth"
    path.write_bytes(_with_a_weight_byte_flipped("cnn_trainer_best_model.pth"))
    trainer = Trainer(TinyCNN(3), lambda p: torch.optim.Adam(p), max_epochs=3, device="cpu", enable_progress_bar=False)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(8, 1, 16), torch.zeros(8).long()))
    with pytest.raises(DamagedCheckpointError):
        trainer.fit(loader, ckpt_path=path)
    assert trainer.global_step == 0
