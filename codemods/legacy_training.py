"""The rewrite as a libcst codemod command, for ``python -m libcst.tool codemod``::

    python -m libcst.tool codemod legacy_training.LegacyTrainingCommand --no-format [--to-core] PATH...

(run from the repository root, whose ``.libcst.codemod.yaml`` lists ``codemods`` and no
formatter; that folder is also the root that decides vendored copies and relative imports).
libcst parses every file it is given; ``pfdtrain codemod`` does the same rewrite but parses only the
files whose text can reference the legacy package, which is much faster.
"""

from __future__ import annotations

import argparse
import os

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, SkipFile

from codemods._api import analyse_source, parse_error
from codemods._plan import REWRITTEN
from codemods._rewrite import rewrite_tree


class LegacyTrainingCommand(Codemod):
    DESCRIPTION: str = (
        "Rewrite imports, attribute uses and string references of the legacy LSTM-PFD `training` package "
        "to its legacy-behaviour adapters in pfdtrain.compat (behaviour unchanged); --replace-deprecated and "
        "--to-core opt in to rewrites that change behaviour."
    )

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--to-core", dest="to_core", action="store_true", default=False,
            help="Move names to the core pfdtrain API where the mapping table marks the call compatible; "
                 "others keep their compat adapter (reported). Implies --replace-deprecated.",
        )
        arg_parser.add_argument(
            "--replace-deprecated", dest="replace_deprecated", action="store_true", default=False,
            help="Rewrite calls of deprecated legacy functions into their replacement (their warning goes away).",
        )
        arg_parser.add_argument(
            "--include-vendored", dest="include_vendored", action="store_true", default=False,
            help="Also rewrite imports that resolve to a vendored copy of the training package.",
        )

    def __init__(self, context: CodemodContext, to_core: bool = False, replace_deprecated: bool = False,
                 include_vendored: bool = False) -> None:
        super().__init__(context)
        self.to_core = to_core
        self.replace_deprecated = replace_deprecated
        self.include_vendored = include_vendored

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        try:
            analysis = analyse_source(tree.bytes, self.context.filename, self.to_core,
                                      replace_deprecated=self.replace_deprecated,
                                      include_vendored=self.include_vendored, root=os.getcwd())
        except (SyntaxError, ValueError) as exc:
            raise SkipFile(parse_error(exc)) from None
        if analysis.legacy_package is not None:
            raise SkipFile(f"part of the legacy package {analysis.legacy_package}: left as written")
        for finding in analysis.findings:
            if finding.status != REWRITTEN or finding.message or finding.behaviour_change:
                self.warn(f"line {finding.line}: {finding.status} {finding.legacy}"
                          + (f" -> {finding.target}" if finding.target else "")
                          + (f": {finding.message}" if finding.message else "")
                          + (f" [behaviour change: {finding.behaviour_change}]" if finding.behaviour_change else ""))
        if not analysis.changes:
            return tree
        return rewrite_tree(tree, analysis)
