"""Every row of shared/codemod-anchors.md (probe cases C01-C14), with the mapping table's own
target for ``training.cnn_trainer.CNNTrainer``. What the best tools got wrong is marked."""

from __future__ import annotations

import pytest

from codemod_cases import CASES
from codemods import rewrite_source


@pytest.mark.parametrize("case", list(CASES))
def test_probe_case(case, rewrite):
    before, after = CASES[case]
    assert rewrite(before) == after  # the fixture also checks that a second run changes nothing


def test_c10_crlf_file_keeps_crlf_also_on_inserted_lines():
    # django-upgrade inserts an LF line into a CRLF file
    before = b"import os\r\nfrom training.optimizers import create_optimizer, get_lr\r\nx = 1\r\n"
    new = rewrite_source(before, replace_deprecated=True).new_source
    assert new == (b"import os\r\nfrom pfdtrain.compat.cnn_optimizer import create_optimizer\r\n"
                   b"from pfdtrain.compat.optimizers import get_lr\r\nx = 1\r\n")
    assert rewrite_source(new, replace_deprecated=True).new_source is None
    split = b"import os\r\nfrom training.cnn_losses import FocalLoss, create_loss_function\r\nx = 1\r\n"
    assert rewrite_source(split).new_source == (
        b"import os\r\nfrom pfdtrain.compat.cnn_losses import FocalLoss\r\n"
        b"from training.cnn_losses import create_loss_function\r\nx = 1\r\n")


def test_c10_crlf_parenthesised_split_keeps_crlf():
    before = (b"from training.cnn_losses import (\r\n    FocalLoss,  # c\r\n    create_loss_function,\r\n)\r\n")
    new = rewrite_source(before).new_source
    assert b"\n" not in new.replace(b"\r\n", b"")
    assert new.count(b"\r\n") == 4 and b"# c" in new


def test_c12_a_file_that_does_not_parse_is_reported_not_touched():
    result = rewrite_source(b"from training.cnn_trainer import (\n", "broken.py")
    assert result.new_source is None and result.error.startswith("cannot parse:") and "line 1" in result.error


def test_c03_c13_statement_comments_above_and_beside_a_split_import_stay(rewrite):
    before = ("# optimizers\nfrom training.optimizers import create_optimizer, get_lr  # noqa\n"
              "opt = create_optimizer(params, 'sgd')\n")
    assert rewrite(before, replace_deprecated=True) == (
        "# optimizers\nfrom pfdtrain.compat.cnn_optimizer import create_optimizer  # noqa\n"
        "from pfdtrain.compat.optimizers import get_lr\n"
        "opt = create_optimizer(optimizer_type='sgd', model_params=params)\n")


def test_c11_function_local_split_adds_no_blank_lines_and_keeps_indentation(rewrite):
    before = ("class A:\n    def f(self):\n        from training.optimizers import create_optimizer, get_lr\n"
              "        return create_optimizer(self.p), get_lr\n")
    assert rewrite(before, replace_deprecated=True) == (
        "class A:\n    def f(self):\n        from pfdtrain.compat.cnn_optimizer import create_optimizer\n"
        "        from pfdtrain.compat.optimizers import get_lr\n"
        "        return create_optimizer(optimizer_type='adam', model_params=self.p), get_lr\n")


def test_c09_star_import_is_reported(findings):
    (finding,) = findings("from training.cnn_losses import *\n")
    assert finding.kind == "star-import" and "list the names you use" in finding.message


def test_c08_dunder_all_is_left_alone_even_with_a_changed_core_name(rewrite):
    before = 'from training.optimizers import get_lr as lr_of\n__all__ = ["lr_of"]\n'
    assert rewrite(before, to_core=True) == 'from pfdtrain.optim import get_lr as lr_of\n__all__ = ["lr_of"]\n'
