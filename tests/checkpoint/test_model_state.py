import re
import warnings
from collections import OrderedDict

import pytest
import torch
from torch import nn

from pfdtrain.checkpoint import CheckpointMismatchError, load, load_model_state, new_checkpoint, save


class TinyCNN(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, kernel_size=5, padding=2)
        self.fc = nn.Linear(4, num_classes)


def _snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _assert_state(model, expected):
    actual = model.state_dict()
    assert list(actual) == list(expected)
    for key in expected:
        assert torch.equal(actual[key], expected[key]), key


def _source(num_classes=3, seed=0):
    torch.manual_seed(seed)
    return TinyCNN(num_classes)


def test_exact_load_copies_values_into_the_same_parameters():
    source, target = _source(seed=0), _source(seed=1)
    params_before = list(target.parameters())
    load_model_state(target, source.state_dict())
    _assert_state(target, source.state_dict())
    assert all(a is b for a, b in zip(params_before, target.parameters(), strict=False))  # copied, not replaced


def test_values_of_another_dtype_are_copied_into_the_model_dtype():
    source, target = _source(seed=0), _source(seed=1)
    doubled = {k: v.double() for k, v in source.state_dict().items()}
    load_model_state(target, doubled)
    assert target.fc.weight.dtype == torch.float32
    assert torch.equal(target.fc.weight, source.fc.weight)


@pytest.mark.parametrize("prefix", ["module.", "_orig_mod.", "module._orig_mod.", "_orig_mod.module."])
def test_wrapper_prefixes_are_stripped(prefix):
    source, target = _source(seed=0), _source(seed=1)
    prefixed = OrderedDict((prefix + k, v) for k, v in source.state_dict().items())
    load_model_state(target, prefixed)
    _assert_state(target, source.state_dict())


def test_dataparallel_state_dict_with_metadata_loads():
    torch.manual_seed(0)
    source = nn.DataParallel(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)))
    torch.manual_seed(1)
    target = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    state = source.state_dict()
    assert all(k.startswith("module.") for k in state)
    metadata_before = dict(state._metadata)
    load_model_state(target, state)
    _assert_state(target, source.module.state_dict())
    assert dict(state._metadata) == metadata_before  # the caller's state dict is not modified
    assert next(iter(state)).startswith("module.")


def test_prefix_is_kept_when_the_model_really_has_a_submodule_named_module():
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.module = nn.Linear(2, 2)

    torch.manual_seed(0)
    source = Holder()
    target = Holder()
    load_model_state(target, source.state_dict())
    _assert_state(target, source.state_dict())


def test_the_v2_model_section_is_accepted(tmp_path):
    source, target = _source(seed=0), _source(seed=1)
    path = save(new_checkpoint(model={"state_dict": source.state_dict(), "architecture": "x.TinyCNN"}),
                tmp_path / "c.pth")
    load_model_state(target, load(path)["model"])
    _assert_state(target, source.state_dict())


def test_mismatch_report_lists_everything_and_leaves_the_model_untouched():
    checkpoint = OrderedDict(_source(num_classes=3).state_dict())
    del checkpoint["conv.bias"]
    checkpoint["head.weight"] = torch.zeros(2)
    target = _source(num_classes=11, seed=1)
    before = _snapshot(target)
    with pytest.raises(CheckpointMismatchError) as info:
        load_model_state(target, checkpoint)
    message = str(info.value)
    assert "fc.weight: checkpoint [3, 4] vs model [11, 4]" in message
    assert "fc.bias: checkpoint [3] vs model [11]" in message
    assert re.search(r"Missing keys.*\n\s+conv\.bias", message)
    assert re.search(r"Unexpected keys.*\n\s+head\.weight", message)
    assert "1 missing key, 1 unexpected key, 2 shape mismatches" in message
    assert "same architecture and configuration" in message and "model.config" in message
    assert "strict=False" in message
    assert info.value.missing == ("conv.bias",)
    assert info.value.unexpected == ("head.weight",)
    assert info.value.shape_mismatches == (("fc.weight", (3, 4), (11, 4)), ("fc.bias", (3,), (11,)))
    _assert_state(target, before)  # nothing was copied before the error


def test_mismatch_names_the_checkpoint_architecture_when_given():
    section = {"state_dict": _source(3).state_dict(), "architecture": "legacy.models.BigNet", "config": {}}
    with pytest.raises(CheckpointMismatchError, match=r"legacy\.models\.BigNet"):
        load_model_state(_source(11), section)


def test_long_lists_are_cut_with_a_count_of_the_rest():
    target = nn.Sequential(*[nn.Linear(2, 2) for _ in range(25)])  # 50 keys
    with pytest.raises(CheckpointMismatchError) as info:
        load_model_state(target, {"other.weight": torch.zeros(1)})
    message = str(info.value)
    assert "50 missing keys" in message
    assert "0.weight" in message and "4.bias" in message
    assert "5.weight" not in message
    assert "... and 40 more" in message
    assert len(info.value.missing) == 50


def test_strict_false_loads_what_matches_skips_shape_mismatches_and_warns():
    source = _source(num_classes=3, seed=0)
    target = _source(num_classes=11, seed=1)
    before = _snapshot(target)
    checkpoint = OrderedDict(source.state_dict())
    checkpoint["extra.weight"] = torch.zeros(1)
    with pytest.warns(UserWarning, match=r"fc\.weight: checkpoint \[3, 4\] vs model \[11, 4\]"):
        result = load_model_state(target, checkpoint, strict=False)
    assert result is None
    assert torch.equal(target.conv.weight, source.conv.weight)
    assert torch.equal(target.conv.bias, source.conv.bias)
    assert torch.equal(target.fc.weight, before["fc.weight"])
    assert torch.equal(target.fc.bias, before["fc.bias"])


def test_strict_false_with_a_perfect_match_is_silent():
    source, target = _source(seed=0), _source(seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model_state(target, source.state_dict(), strict=False)
    _assert_state(target, source.state_dict())


def test_batchnorm_without_num_batches_tracked_loads_like_torch_does():
    torch.manual_seed(0)
    source = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    old_style = {k: v for k, v in source.state_dict().items() if not k.endswith("num_batches_tracked")}
    reference = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    reference.load_state_dict(old_style, strict=True)  # torch itself accepts it
    target = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    load_model_state(target, old_style)
    _assert_state(target, reference.state_dict())


def test_batchnorm_missing_num_batches_tracked_with_version_2_metadata_is_missing():
    state = nn.Sequential(nn.BatchNorm1d(3)).state_dict()  # carries version 2 metadata
    del state["0.num_batches_tracked"]
    with pytest.raises(CheckpointMismatchError, match=r"0\.num_batches_tracked"):
        load_model_state(nn.Sequential(nn.BatchNorm1d(3)), state)


def test_is_a_runtime_error_for_old_callers():
    with pytest.raises(RuntimeError):
        load_model_state(_source(3), _source(11).state_dict())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_tensors_into_a_cpu_model_and_back():
    source, target = _source(seed=0), _source(seed=1)
    load_model_state(target, {k: v.cuda() for k, v in source.state_dict().items()})
    assert target.fc.weight.device.type == "cpu"
    _assert_state(target, source.state_dict())
    gpu_model = _source(seed=2).cuda()
    load_model_state(gpu_model, source.state_dict())
    assert gpu_model.fc.weight.is_cuda
    assert torch.equal(gpu_model.fc.weight.cpu(), source.fc.weight)
