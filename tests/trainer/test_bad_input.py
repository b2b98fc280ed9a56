"""Each kind of bad input gives one clear message: what was received and what to do."""

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from pfd_testing import make_data, make_loader, make_model
from pfdtrain import Trainer
from pfdtrain.errors import BatchStructureError, ConfigurationError


def _trainer(model=None, **kw):
    model = model or make_model()
    kw.setdefault("enable_progress_bar", False)
    return Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), **kw)


def test_unknown_argument_names_it_and_suggests_the_right_one():
    with pytest.raises(ConfigurationError, match=r"'epochs' \(did you mean 'max_epochs'\?\)"):
        _trainer(epochs=3)


def test_batch_of_the_wrong_structure():
    x, _ = make_data(16)
    loader = DataLoader(TensorDataset(x), batch_size=4)  # inputs only, no labels
    with pytest.raises(BatchStructureError) as info:
        _trainer(max_epochs=1).fit(loader)
    message = str(info.value)
    assert "received list of 1 [Tensor(shape=[4, 8]" in message
    assert "(inputs, targets)" in message and "Dataset" in message


def test_dict_batch_without_known_keys_lists_the_keys_received():
    class Bad(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"features": torch.zeros(8), "cls": 0}

    with pytest.raises(BatchStructureError, match=r"keys \['cls', 'features'\].*input_key"):
        _trainer(max_epochs=1).fit(DataLoader(Bad(), batch_size=2))


def test_labels_that_do_not_fit_the_logits():
    x, _ = make_data(8)
    y = torch.zeros(8, 2, 2, dtype=torch.long)
    with pytest.raises(BatchStructureError, match=r"logits \[B, num_classes\]"):
        _trainer(max_epochs=1).fit(DataLoader(TensorDataset(x, y), batch_size=4))


def test_a_tensor_instead_of_a_loader():
    x, _ = make_data(8)
    with pytest.raises(ConfigurationError, match="DataLoader"):
        _trainer(max_epochs=1).fit(x)


def test_missing_optimizer_says_how_to_pass_one():
    with pytest.raises(ConfigurationError, match=r"optimizer=torch\.optim\.AdamW"):
        Trainer(make_model(), max_epochs=1, enable_progress_bar=False).fit(make_loader())


def test_optimizer_of_another_model():
    other = make_model(seed=1)
    with pytest.raises(ConfigurationError, match="do not belong to the model"):
        Trainer(make_model(), torch.optim.SGD(other.parameters(), lr=0.1), enable_progress_bar=False).fit(make_loader())


def test_bad_device_and_unavailable_cuda():
    with pytest.raises(ConfigurationError, match="not a device torch understands"):
        _trainer(device="gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigurationError, match="CUDA is not available"):
            _trainer(device="cuda")


@pytest.mark.parametrize(("arg", "value"), [("max_epochs", -1), ("log_every_n_steps", 0), ("on_nonfinite", "warn")])
def test_bad_values(arg, value):
    with pytest.raises(ConfigurationError, match=arg):
        _trainer(**{arg: value})


def test_checkpoint_of_another_architecture_lists_the_differences(tmp_path):
    from pfdtrain.checkpoint import CheckpointMismatchError

    path = tmp_path / "small.pt"
    small = _trainer(make_model(num_classes=3), max_epochs=1)
    small.fit(make_loader())
    small.save_checkpoint(path)
    big = make_model(num_classes=5)
    with pytest.raises(CheckpointMismatchError) as info:
        _trainer(big, max_epochs=2).fit(make_loader(), ckpt_path=path)
    assert "fc2.weight" in str(info.value) and "[3, 16]" in str(info.value) and "[5, 16]" in str(info.value)


def test_two_plugins_for_one_role_fail_before_training():
    from pfdtrain.plugins import PrecisionPlugin

    with pytest.raises(ConfigurationError, match="'precision' role"):
        _trainer(plugins=[PrecisionPlugin(), PrecisionPlugin()])
