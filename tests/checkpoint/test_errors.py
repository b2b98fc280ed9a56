import pytest

from pfdtrain.checkpoint import (
    CheckpointError,
    CheckpointFormatError,
    CheckpointMismatchError,
    CheckpointVersionError,
)
from pfdtrain.errors import PfdtrainError


@pytest.mark.parametrize("cls", [CheckpointFormatError, CheckpointVersionError, CheckpointMismatchError])
def test_every_checkpoint_error_is_a_checkpoint_error_and_a_pfdtrain_error(cls):
    assert issubclass(cls, CheckpointError)
    assert issubclass(cls, PfdtrainError)


def test_mismatch_error_stays_a_runtime_error_like_load_state_dict():
    # Code that caught load_state_dict's RuntimeError keeps working.
    assert issubclass(CheckpointMismatchError, RuntimeError)


def test_version_error_is_not_a_format_error():
    # "newer file, upgrade pfdtrain" and "not a v2 file, migrate it" need different handling.
    assert not issubclass(CheckpointVersionError, CheckpointFormatError)
    assert not issubclass(CheckpointFormatError, CheckpointVersionError)


def test_errors_keep_their_details_as_attributes():
    err = CheckpointVersionError("msg", found="3.0", supported="2.0")
    assert (str(err), err.found, err.supported) == ("msg", "3.0", "2.0")
    err = CheckpointMismatchError("msg", missing=["a"], unexpected=["b"], shape_mismatches=[("c", (1,), (2,))])
    assert (err.missing, err.unexpected, err.shape_mismatches) == (("a",), ("b",), (("c", (1,), (2,)),))
    assert CheckpointFormatError("msg", unsafe_globals=["os.system"]).unsafe_globals == ("os.system",)
