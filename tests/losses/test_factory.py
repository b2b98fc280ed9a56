import pytest
from torch import nn

from pfdtrain.losses import FocalLoss, create_loss


def test_builds_by_name_case_insensitive():
    assert isinstance(create_loss("Focal", gamma=1.0), FocalLoss)
    assert isinstance(create_loss("cross_entropy"), nn.CrossEntropyLoss)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown loss 'hinge'\. Valid names: ") as err:
        create_loss("hinge")
    for name in ("focal", "label_smoothing", "supcon", "distillation", "cross_entropy"):
        assert name in str(err.value)


def test_unknown_keyword_is_an_error_not_dropped():
    with pytest.raises(TypeError):
        create_loss("label_smoothing", smothing=0.2)
