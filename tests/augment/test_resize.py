import pytest
import torch

from pfdtrain.augment import Resize, resize_signal


def test_crop_takes_the_centre_and_pads_at_the_end():
    x = torch.arange(10.0)
    assert resize_signal(x, 4, "crop").tolist() == [3.0, 4.0, 5.0, 6.0]
    assert resize_signal(x[:3], 5, "crop").tolist() == [0.0, 1.0, 2.0, 0.0, 0.0]


def test_subsample_strides_or_tiles():
    x = torch.arange(10.0).reshape(1, 1, 10)
    assert resize_signal(x, 3, "subsample").flatten().tolist() == [0.0, 3.0, 6.0]
    assert resize_signal(torch.arange(3.0), 7, "subsample").tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_interpolate_keeps_batch_and_channels():
    x = torch.randn(2, 3, 16)
    out = Resize(8)(x)
    assert out.shape == (2, 3, 8)
    ref = torch.nn.functional.interpolate(x, size=8, mode="linear", align_corners=False)
    assert torch.equal(out, ref)


def test_unknown_method():
    with pytest.raises(ValueError, match="Unknown resize method"):
        Resize(8, "nearest")
