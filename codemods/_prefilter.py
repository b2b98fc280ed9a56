"""Which files are worth parsing: import-shaped text that names ``training``, not the bare word.

Parsing with libcst costs ~15,000 lines/s and is the whole price of a codemod run, so files are
first judged by one regular expression over their bytes. A file passes when it has

* an ``import``/``from`` line naming ``training`` as a whole word (``from training.x import``,
  ``import packages.core.training.x as t``, ``from . import training``), or
* a string that starts with a dotted legacy path (``"training.cnn_trainer.CNNTrainer"``), or
* a relative import in a file below a folder named ``training`` (maybe a vendored copy of the legacy
  package, whose relative imports are reported).

Words such as ``training_loop``, ``# training starts`` or ``model.training`` do not pass.
"""

from __future__ import annotations

import re
from pathlib import PurePath

LEGACY_TEXT = re.compile(
    rb"""^[ \t]*(?:from|import)[ \t][^\n#]*(?<![\w])training(?![\w])"""
    rb"""|['"](?:packages\.core\.)?training\.[A-Za-z_]""",
    re.MULTILINE,
)


_RELATIVE_IMPORT = re.compile(rb"^[ \t]*from[ \t]+\.", re.MULTILINE)


def may_reference_legacy(data: bytes, path: str | PurePath | None = None) -> bool:
    """True when the file is worth parsing (see the module docstring)."""
    if LEGACY_TEXT.search(data) is not None:
        return True
    return path is not None and in_training_folder(path) and _RELATIVE_IMPORT.search(data) is not None


def in_training_folder(path: str | PurePath) -> bool:
    """True for a file below a folder named ``training`` (maybe a copy of the legacy package)."""
    return "training" in PurePath(path).parts[:-1]
