"""libcst codemods that move a repository from the legacy ``training`` package to pfdtrain.

Driven only by the mapping table :mod:`pfdtrain.legacy_map`. Entry points:

* ``pfdtrain codemod PATH... [--diff] [--check] [--jobs N] [--exclude GLOB] [--to-core]``
  (pre-filters files by import-shaped text, parses only those, runs in parallel);
* ``python -m libcst.tool codemod legacy_training.LegacyTrainingCommand --no-format PATH`` (the same
  rewrite as a libcst command; the repository's ``.libcst.codemod.yaml`` names this package);
* :func:`rewrite_source` / :func:`analyse_source` for one file's bytes.

Importing this package does not import libcst; a file is parsed with libcst only when it changes.
"""

from codemods._api import FileResult, analyse_source, parse_error, rewrite_source
from codemods._plan import Finding
from codemods._prefilter import may_reference_legacy

__all__ = ["FileResult", "Finding", "analyse_source", "may_reference_legacy", "parse_error", "rewrite_source"]
