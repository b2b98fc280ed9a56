"""``pfdtrain codemod`` rewrites only the top-level statements that change; the libcst.tool route
rewrites the whole parsed module. Both must give the same bytes."""

from __future__ import annotations

import ast

import libcst as cst
import pytest

from codemod_cases import CASES
from codemods._analysis import analyse
from codemods._plan import Options
from codemods._rewrite import rewrite_statements, rewrite_tree

EXTRA = [
    b"import os\r\nfrom training.optimizers import create_optimizer, get_lr\r\nx = 1\r\n",
    b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nfrom training.cnn_trainer import CNNTrainer\n",
    "# -*- coding: latin-1 -*-\n'é'\nfrom training.cnn_trainer import CNNTrainer\n".encode("latin-1"),
    b"import training\n\n\n@decorate(\n    'training.cnn_trainer.CNNTrainer',\n)\nclass A:\n\tdef f(self):\n"
    b"\t\treturn training.cnn_losses.FocalLoss()\n",
    b"x = 1; from training.optimizers import create_optimizer, get_lr\ny = create_optimizer(p)\n",
    b"from training.cnn_losses import (\n    FocalLoss,  # a\n    create_loss_function,\n)\nz = 2",
    b"if True:\n  from training.optimizers import create_optimizer, get_lr\n  o = create_optimizer(p, 'sgd')\n",
    b"from training.cnn_losses import FocalLoss, create_loss_function, SupConLoss as S\n",
]
SOURCES = [before.encode() for before, _ in CASES.values()] + EXTRA


@pytest.mark.parametrize("opts", [Options(), Options(replace_deprecated=True), Options(to_core=True)])
@pytest.mark.parametrize("source", SOURCES)
def test_statement_route_equals_whole_module_route(source, opts):
    tree = ast.parse(source)
    analysis = analyse(tree, "/repo/x.py", opts)
    assert analysis.changes
    whole = rewrite_tree(cst.parse_module(source), analysis).bytes
    assert rewrite_statements(source, tree, analysis) == whole


def test_a_split_import_uses_the_block_indentation_not_a_continuation_line():
    source = (b"x = call(a,\n         b)\nfrom training.cnn_losses import (\n    FocalLoss,  # c\n"
              b"    create_loss_function,\n)\n"
              b"def f():\n  return 1\n")
    tree = ast.parse(source)
    analysis = analyse(tree, None)
    new = rewrite_statements(source, tree, analysis)
    assert b"\n  FocalLoss,  # c\n" in new
    assert new == rewrite_tree(cst.parse_module(source), analysis).bytes
