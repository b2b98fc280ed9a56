"""The rewrite as a libcst codemod command, for ``python -m libcst.tool codemod``::

    python -m libcst.tool codemod legacy_training.LegacyTrainingCommand --no-format [--to-core] PATH...

(run from the repository root, whose ``.libcst.codemod.yaml`` lists ``codemods`` and no
formatter). libcst parses every file it is given; ``pfdtrain codemod`` does the same rewrite but
parses only the files whose text can reference the legacy package, which is much faster.
"""

from __future__ import annotations

import argparse

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, SkipFile

from codemods._api import analyse_source, parse_error
from codemods._plan import REWRITTEN
from codemods._rewrite import rewrite_tree


class LegacyTrainingCommand(Codemod):
    DESCRIPTION: str = (
        "Rewrite imports, attribute uses, string references and changed call sites of the legacy "
        "LSTM-PFD `training` package to pfdtrain (compat adapters by default, --to-core for the core API "
        "where that is a mechanical rewrite)."
    )

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--to-core", dest="to_core", action="store_true", default=False,
            help="Move names to the core pfdtrain API where the mapping table marks the call compatible; "
                 "others keep their compat adapter (reported).",
        )

    def __init__(self, context: CodemodContext, to_core: bool = False) -> None:
        super().__init__(context)
        self.to_core = to_core

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        try:
            analysis = analyse_source(tree.bytes, self.context.filename, self.to_core)
        except (SyntaxError, ValueError) as exc:
            raise SkipFile(parse_error(exc)) from None
        for finding in analysis.findings:
            if finding.status != REWRITTEN or finding.message:
                self.warn(f"line {finding.line}: {finding.status} {finding.legacy}"
                          + (f" -> {finding.target}" if finding.target else "")
                          + (f": {finding.message}" if finding.message else ""))
        if not analysis.changes:
            return tree
        return rewrite_tree(tree, analysis, self.to_core)
