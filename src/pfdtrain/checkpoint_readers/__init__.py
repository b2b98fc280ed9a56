"""Code that reads checkpoint files itself, found statically, and what it should change.

Migrating a checkpoint to v2 changes its top-level keys: ``torch.load(path)["model_state_dict"]``
raises ``KeyError`` on the migrated file. ``pfdtrain scan`` lists such readers and ``pfdtrain
upgrade`` does not break them silently; each reader is told the v2 place of every key it reads
(from the migration's own table) or how to keep v1 files for it.

* :mod:`~pfdtrain.checkpoint_readers.prefilter`: which files are worth parsing;
* :mod:`~pfdtrain.checkpoint_readers.analyse`: one file with libcst (load sites, keys read, loader helpers);
* :mod:`~pfdtrain.checkpoint_readers.find`: a repository, loader helpers followed across files;
* :mod:`~pfdtrain.checkpoint_readers.v1_keys`: v1 key -> v2 place, from the migration's table;
* :mod:`~pfdtrain.checkpoint_readers.advice`: the replacements to make.
"""

from __future__ import annotations

from pfdtrain.checkpoint_readers.advice import Edit, advice_lines, apply_edits, downgrade_layouts, edits
from pfdtrain.checkpoint_readers.find import Reader, ReaderSearch, find_readers

__all__ = [
    "Edit", "Reader", "ReaderSearch", "advice_lines", "apply_edits", "downgrade_layouts", "edits", "find_readers",
]
