"""Each upgrader on its real zoo file: every tensor and value kept, v1 -> v2 -> v1 gives the original.

Where things go in v2 is stated here independently of the code (``v2_place``), and the
expected tensors and values come from the manifest.
"""

import pytest
import torch

from pfdtrain.checkpoint import load_any, load_model_state, new_checkpoint, save
from pfdtrain.checkpoint.format import FORMAT_VERSION
from pfdtrain.migration.upgraders import UPGRADERS, describe_changes, downgrade, legacy_layouts, register, upgrade
from zoo_manifest import (
    ENTRIES,
    LOADABLE,
    ZOO,
    TinyCNN,
    all_tensors,
    dtype_name,
    get_path,
    matches_content,
    tensor_sha256,
)

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

#: v1 key -> (v2 path, how the value changes). Unlisted keys go to extra under their own name.
MOVED = {
    "optimizer_state_dict": ("optimizer",),
    "scheduler_state_dict": ("scheduler",),
    "history": ("training", "history"),
    "model_config": ("model", "config"),
    "model_class": ("model", "architecture"),
    "args": ("config", "args"),
}
BEST = {"cnn_trainer": "best_val_acc", "callbacks.ModelCheckpoint": "best_value"}


def v2_place(entry, path):
    """Where a v1 value at ``path`` lives in the v2 checkpoint."""
    weights, prefix = entry["weights_location"], entry["weights_key_prefix"]
    if weights == "<root>":
        return ["model", "state_dict", path[0].removeprefix(prefix), *path[1:]]
    head, *rest = path
    if head == weights:
        return ["model", "state_dict", rest[0].removeprefix(prefix), *rest[1:]]
    if head == "epoch" and isinstance(entry["content"].get("epoch"), int):
        return ["training", "epoch"]
    if head == BEST.get(entry["layout"]):
        return ["training", "best_metric"]
    return [*MOVED.get(head, ("extra", head)), *rest]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Every loadable zoo file upgraded, saved with pfdtrain, and read back WITHOUT any allow-list."""
    folder = tmp_path_factory.mktemp("v2")
    out = {}
    for name in LOADABLE:
        save(load_any(ZOO / name), folder / name)
        out[name] = torch.load(folder / name, weights_only=True)
    return out


@pytest.mark.parametrize("name", LOADABLE)
def test_every_tensor_is_at_its_v2_place_with_identical_bytes(name, written):
    entry, v2 = ENTRIES[name], written[name]
    for tensor in entry["tensors"]:
        found = get_path(v2, v2_place(entry, tensor["path"]))
        assert dtype_name(found) == tensor["dtype"] and list(found.shape) == tensor["shape"], tensor["key"]
        assert tensor_sha256(found) == tensor["sha256"], tensor["key"]
        if "q_scale" in tensor:
            assert found.q_scale() == tensor["q_scale"] and found.q_zero_point() == tensor["q_zero_point"]


@pytest.mark.parametrize("name", LOADABLE)
def test_no_tensor_is_added_or_dropped(name, written):
    expected = sorted((t["dtype"], t["shape"], t["sha256"]) for t in ENTRIES[name]["tensors"])
    found = sorted((dtype_name(t), list(t.shape), tensor_sha256(t)) for t in all_tensors(written[name]))
    assert found == expected


@pytest.mark.parametrize("name", LOADABLE)
def test_every_v1_value_is_kept(name, written):
    entry, v2 = ENTRIES[name], written[name]
    if entry["weights_location"] == "<root>":
        return  # nothing but weights, covered above
    for key, encoded in entry["content"].items():
        if key == entry["weights_location"]:
            continue
        value = get_path(v2, v2_place(entry, [key]))
        if key == "epoch" and isinstance(encoded, int):
            assert value == encoded + 1  # v2 counts finished epochs; v1 stored the last one's 0-based index
        else:
            matches_content(value, encoded, key)


@pytest.mark.parametrize("name", LOADABLE)
def test_v1_to_v2_to_v1_gives_back_the_original_keys_values_and_tensors(name, written):
    entry = ENTRIES[name]
    back = downgrade(written[name], entry["layout"])
    matches_content(back, entry["content"])
    if entry["weights_location"] == "<root>":
        assert list(back) == entry["state_dict_keys"]


def test_header_and_provenance_of_an_upgraded_file(written):
    v2 = written["cnn_trainer_dataparallel_best_model.pth"]
    assert v2["format"] == "pfdtrain.checkpoint" and v2["format_version"] == FORMAT_VERSION
    record = v2["extra"]["migrated_from"]
    assert record["layout"] == "cnn_trainer" and record["weights_key_prefixes"] == ["module."]
    assert record["keys"] == ENTRIES["cnn_trainer_dataparallel_best_model.pth"]["top_level_keys"]
    assert list(v2["model"]["state_dict"]) == ["conv.weight", "conv.bias", "fc.weight", "fc.bias"]


def test_quantized_model_loads_from_v2_and_gets_its_dtype_back_on_downgrade(written):
    v2 = written["quantized_model_int8.pth"]
    assert v2["model"]["state_dict"]["fc._packed_params.dtype"] == "torch.qint8"  # plain data in v2
    model = torch.ao.quantization.quantize_dynamic(TinyCNN(3), {torch.nn.Linear}, dtype=torch.qint8)
    load_model_state(model, v2["model"])
    weight, bias = model.fc._packed_params._weight_bias()
    expected = {t["key"].rsplit(".", 1)[-1]: t["sha256"] for t in ENTRIES["quantized_model_int8.pth"]["tensors"]
                if "_packed_params._packed_params" in t["key"]}
    assert tensor_sha256(weight) == expected["0"] and tensor_sha256(bias) == expected["1"]
    back = downgrade(v2, "deployment.quantization")
    assert back["model_state_dict"]["fc._packed_params.dtype"] is torch.qint8


def test_paths_in_script_args_are_strings_in_v2(written):
    for name, root in (("train_cnn_script_windowspath_args.pth", "C:\\Users"),
                       ("train_cnn_script_posixpath_args.pth", "/home")):
        args = written[name]["config"]["args"]
        assert type(args["data_path"]) is str and args["data_path"].startswith(root)
        conversions = written[name]["extra"]["migrated_from"]["conversions"]
        assert [c["path"] for c in conversions] == [["args", "data_path"], ["args", "checkpoint_dir"]]


def test_the_registry_covers_every_zoo_layout_and_chains_versions():
    assert {ENTRIES[n]["layout"] for n in LOADABLE} <= set(legacy_layouts())
    calls = []

    @register("old_thing", "1", "1.5")
    def first(obj):
        calls.append("1->1.5")
        return {**obj, "renamed": obj["weights"]}

    @register("old_thing", "1.5")
    def second(obj):
        calls.append("1.5->2")
        return new_checkpoint(model={"state_dict": obj["renamed"]})

    try:
        v2 = upgrade({"weights": {"w": torch.ones(1)}}, "old_thing")
    finally:
        UPGRADERS.pop(("old_thing", "1"), None)
        UPGRADERS.pop(("old_thing", "1.5"), None)
    assert calls == ["1->1.5", "1.5->2"] and torch.equal(v2["model"]["state_dict"]["w"], torch.ones(1))
    with pytest.raises(ValueError, match="already registered"):
        register("cnn_trainer", "1")(lambda obj: obj)


def test_a_native_v2_checkpoint_downgrades_to_what_train_cnn_resume_reads(tmp_path):
    torch.manual_seed(0)
    model = TinyCNN(3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    v2 = new_checkpoint(model={"state_dict": model.state_dict()}, training={"epoch": 5, "best_metric": 91.5},
                        optimizer=optimizer.state_dict(), config={"max_epochs": 10})
    v1 = downgrade(v2, "scripts.train_cnn")
    assert list(v1) == ["epoch", "model_state_dict", "optimizer_state_dict", "scheduler_state_dict", "val_acc", "args"]
    assert v1["epoch"] == 4 and v1["scheduler_state_dict"] is None and v1["val_acc"] == 91.5  # resumes at epoch 5
    torch.save(v1, tmp_path / "legacy.pth")
    raw = torch.load(tmp_path / "legacy.pth", weights_only=True)  # what a legacy reader on torch >= 2.6 does
    TinyCNN(3).load_state_dict(raw["model_state_dict"])
    torch.optim.AdamW(TinyCNN(3).parameters()).load_state_dict(raw["optimizer_state_dict"])


def test_describe_changes_says_what_moves_and_what_is_converted():
    from pfdtrain.migration.safe_load import safe_load

    loaded = safe_load(ZOO / "cnn_trainer_dataparallel_best_model.pth")
    lines = describe_changes(loaded.obj, "cnn_trainer")
    assert lines[0] == "model_state_dict -> model.state_dict (4 entries, prefix 'module.' removed)"
    assert any(line.startswith("epoch -> training.epoch: 1 -> 2") for line in lines)
    assert "best_val_loss -> extra.best_val_loss" in lines
    windows = safe_load(ZOO / "train_cnn_script_windowspath_args.pth")
    assert "args.data_path: pathlib.WindowsPath -> plain data" in describe_changes(
        windows.obj, "scripts.train_cnn", windows.conversions)


def test_a_trusted_whole_module_pickle_keeps_its_state_dict(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    v2 = load_any(ZOO / "whole_module_pickle.pth", trust_unsafe=True)
    expected = {t["path"][0]: t["sha256"] for t in ENTRIES["whole_module_pickle.pth"]["tensors"]}
    assert {k: tensor_sha256(v) for k, v in v2["model"]["state_dict"].items()} == expected
    assert v2["model"]["architecture"] == "torch.nn.modules.container.Sequential"
