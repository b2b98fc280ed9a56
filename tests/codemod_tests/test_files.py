"""Bytes in, bytes out: encodings, line endings, BOM, idempotence, parse errors."""

from __future__ import annotations

import pytest

from codemods import rewrite_source


def test_latin1_file_with_a_coding_cookie_stays_latin1():
    text = "# -*- coding: latin-1 -*-\nfrom training.cnn_trainer import CNNTrainer\nAUTHOR = 'José Müller'\n"
    before = text.encode("latin-1")
    new = rewrite_source(before).new_source
    assert new == before.replace(b"from training.cnn_trainer", b"from pfdtrain.compat.cnn_trainer")
    assert "José".encode("latin-1") in new and "José".encode() not in new


def test_utf8_bom_is_kept():
    before = b"\xef\xbb\xbffrom training.cnn_trainer import CNNTrainer\r\nname = '\xc3\xa9'\r\n"
    new = rewrite_source(before).new_source
    assert new == b"\xef\xbb\xbffrom pfdtrain.compat.cnn_trainer import CNNTrainer\r\nname = '\xc3\xa9'\r\n"


def test_mixed_line_endings_and_no_final_newline_are_kept():
    before = b"import os\r\nfrom training.cnn_trainer import CNNTrainer\nx = 1"
    assert rewrite_source(before).new_source == (
        b"import os\r\nfrom pfdtrain.compat.cnn_trainer import CNNTrainer\nx = 1")


def test_tabs_and_odd_spacing_are_kept():
    before = b"if True:\n\tfrom  training.cnn_trainer  import  CNNTrainer  as  T\n"
    assert rewrite_source(before).new_source == (
        b"if True:\n\tfrom  pfdtrain.compat.cnn_trainer  import  CNNTrainer  as  T\n")


def test_everything_else_is_byte_identical():
    body = b'"""Doc."""\n\n# comment\nx = [1,\n     2]  # odd\n\n\n\ndef f( a ):\n    return a\n'
    before = b"from training.cnn_trainer import CNNTrainer\n" + body
    assert rewrite_source(before).new_source == b"from pfdtrain.compat.cnn_trainer import CNNTrainer\n" + body


@pytest.mark.parametrize("source", [
    b"from training.cnn_trainer import (\n",
    b"def f(:\n    from training.cnn_trainer import CNNTrainer\n",
    b"from training.cnn_trainer import CNNTrainer\n\x00\n",
    b"# -*- coding: latin-1 -*-\nx = '\xff\n",
    b"from training.cnn_trainer import CNNTrainer\nprint 'python 2'\n",
])
def test_a_file_that_fails_to_parse_is_reported_with_where(source):
    result = rewrite_source(source, "bad.py")
    assert result.new_source is None and result.error.startswith("cannot parse")


def test_second_run_changes_nothing_on_a_busy_file():
    before = (b"import training.metrics, os\nfrom training import cnn_losses as L\n"
              b"from packages.core.training.optimizers import (create_optimizer, get_lr,\n    set_lr)\n"
              b"opt = create_optimizer(p, 'sgd')\nx = training.metrics.compute_accuracy\n"
              b"PATCH = 'training.cnn_trainer.CNNTrainer'\n")
    once = rewrite_source(before).new_source
    assert once is not None and rewrite_source(once).new_source is None
    core = rewrite_source(before, to_core=True).new_source
    assert rewrite_source(core, to_core=True).new_source is None
    assert rewrite_source(core).new_source is None  # and compat mode leaves core imports alone
