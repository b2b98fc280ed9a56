"""Which code reads checkpoint files with v1 keys: one file at a time, each case as source text.

Every case is a small module; the expectation is the list of ``(line of the load call, keys read,
bare state dict?)`` the search must report, written out by hand.
"""

from __future__ import annotations

import textwrap

import pytest

from pfdtrain.checkpoint_readers import find_readers


def readers(source: str, path: str = "script.py", **more: str) -> list[tuple[int, list[str], bool]]:
    files = [(path, textwrap.dedent(source).encode())] + [(p, textwrap.dedent(s).encode()) for p, s in more.items()]
    return [(r.line, r.keys, r.state_dict) for r in find_readers(files).readers if r.path == path]


FLAGGED = {
    "subscript through a name": ("""
        import torch
        checkpoint = torch.load(path, map_location="cpu")
        model.load_state_dict(checkpoint["model_state_dict"])
        epoch = checkpoint["epoch"]
        """, [(3, ["model_state_dict", "epoch"], False)]),
    "direct subscript of the call": ("""
        import torch
        state = torch.load(path)["model_state_dict"]
        """, [(3, ["model_state_dict"], False)]),
    "import torch as T": ("""
        import torch as T
        ckpt = T.load(path)
        opt.load_state_dict(ckpt["optimizer_state_dict"])
        """, [(3, ["optimizer_state_dict"], False)]),
    "from torch import load as L": ("""
        from torch import load as read_file
        ckpt = read_file(path)
        print(ckpt["best_val_acc"])
        """, [(3, ["best_val_acc"], False)]),
    "torch.serialization.load": ("""
        import torch
        ckpt = torch.serialization.load(path)
        history = ckpt["history"]
        """, [(3, ["history"], False)]),
    ".get, .pop and in": ("""
        import torch
        ckpt = torch.load(path)
        if "scheduler_state_dict" in ckpt:
            sched.load_state_dict(ckpt.get("scheduler_state_dict"))
        args = ckpt.pop("args", {})
        """, [(3, ["scheduler_state_dict", "args"], False)]),
    "nested subscripts: only the top-level key counts": ("""
        import torch
        ckpt = torch.load(path)
        best = ckpt["history"]["val_acc"][ckpt["epoch"]]
        weight = torch.load(other)["model_state_dict"]["conv.weight"]
        """, [(3, ["history", "epoch"], False), (5, ["model_state_dict"], False)]),
    "inside a function, used in a nested one": ("""
        import torch

        def evaluate(path):
            ckpt = torch.load(path)

            def epoch():
                return ckpt["epoch"]
            return epoch()
        """, [(5, ["epoch"], False)]),
    "a module-level load read in a function": ("""
        import torch
        CKPT = torch.load("best.pth")

        def weights():
            return CKPT["model_state_dict"]
        """, [(3, ["model_state_dict"], False)]),
    "a bare state dict handed to load_state_dict": ("""
        import torch
        model.load_state_dict(torch.load(path, map_location="cpu"))
        state = torch.load(other)
        net.load_state_dict(state, strict=False)
        """, [(3, [], True), (4, [], True)]),
    "annotated assignment and walrus": ("""
        import torch
        ckpt: dict = torch.load(path)
        a = ckpt["metrics"]
        if (c := torch.load(other)) is not None:
            b = c["encoder_state_dict"]
        """, [(3, ["metrics"], False), (5, ["encoder_state_dict"], False)]),
}

NOT_FLAGGED = {
    "a reader of v2 keys only": """
        import torch
        ckpt = torch.load(path, weights_only=True)
        model.load_state_dict(ckpt["model"]["state_dict"])
        epoch = ckpt["training"]["epoch"]
        """,
    "torch.load of something that is not a checkpoint": """
        import torch
        signals = torch.load("signals.pt")
        x, y = signals["signals"], signals["labels"]
        """,
    "other libraries' load": """
        import json
        import numpy as np
        config = json.load(open("run.json"))
        epoch = config["epoch"]
        arrays = np.load("data.npz")["model_state_dict"]
        """,
    "code that tells v1 and v2 apart": """
        import torch
        from pfdtrain.checkpoint import is_v2
        ckpt = torch.load(path)
        weights = ckpt["model"]["state_dict"] if is_v2(ckpt) else ckpt["model_state_dict"]
        other = torch.load(path2)
        w2 = other["model"]["state_dict"] if "format" in other else other["model_state_dict"]
        """,
    "a same-named parameter in another function": """
        import torch

        def load(path):
            checkpoint = torch.load(path)
            return 1

        def show(checkpoint):
            print(checkpoint["epoch"])
        """,
    "a load in a docstring or comment": '''
        def f(model):
            """model.load_state_dict(torch.load('best_model.pth')['model_state_dict'])"""
            # torch.load(p)["epoch"]
        ''',
    "pfdtrain's own loader": """
        from pfdtrain.checkpoint import load_any
        ckpt = load_any(path)
        weights = ckpt["model"]["state_dict"]
        """,
}


@pytest.mark.parametrize("case", FLAGGED)
def test_flagged(case):
    source, expected = FLAGGED[case]
    assert readers(source) == expected


@pytest.mark.parametrize("case", NOT_FLAGGED)
def test_not_flagged(case):
    assert readers(NOT_FLAGGED[case]) == []


def test_a_loader_helper_is_followed_into_the_files_that_call_it():
    helpers = """
        import torch

        class CheckpointManager:
            def load_checkpoint(self, path):
                checkpoint = torch.load(path, map_location="cpu")
                return checkpoint

            def load_best_checkpoint(self):
                return self.load_checkpoint("best_model.pth")
        """
    caller = """
        from utils.checkpoint_manager import CheckpointManager
        manager = CheckpointManager()
        epoch = manager.load_best_checkpoint()["epoch"]
        info = manager.load_checkpoint(p)
        print(info["metric_value"])
        """
    search = find_readers([("utils/checkpoint_manager.py", textwrap.dedent(helpers).encode()),
                           ("scripts/resume.py", textwrap.dedent(caller).encode())])
    assert [(r.path, r.line, r.site.call, r.keys) for r in search.readers] == [
        ("scripts/resume.py", 4, "load_best_checkpoint", ["epoch"]),
        ("scripts/resume.py", 5, "load_checkpoint", ["metric_value"]),
    ]
    assert search.loaders == {"load_checkpoint": ["utils/checkpoint_manager.py:5"],
                              "load_best_checkpoint": ["utils/checkpoint_manager.py:9"]}
    assert search.readers[0].helper_at == ["utils/checkpoint_manager.py:9"]


def test_the_legacy_adapters_loaders_are_not_helpers_of_the_repository():
    helper = """
        import torch

        def load_checkpoint(path, model):
            return torch.load(path)
        """
    caller = """
        from training.spectrogram_trainer import SpectrogramTrainer
        ckpt = SpectrogramTrainer.load_checkpoint(path, model)
        print(ckpt["history"])
        """
    # pfdtrain.compat's SpectrogramTrainer.load_checkpoint reads v2 files and returns the v1 dict
    assert readers(caller, "use.py", **{"helpers.py": helper}) == []


def test_a_function_that_returns_something_else_is_no_helper():
    helper = """
        import torch

        def load_model(path):
            checkpoint = torch.load(path)
            model = build(checkpoint["model_state_dict"])
            return model
        """
    caller = """
        from helpers import load_model
        model = load_model(p)
        print(model["epoch"])
        """
    assert readers(caller, "use.py", **{"helpers.py": helper}) == []
    assert readers(helper, "helpers.py") == [(5, ["model_state_dict"], False)]


def test_lines_are_those_of_the_file_in_a_long_file_with_unrelated_code():
    filler = "".join(f"def unrelated_{i}(x):\n    return [x] * {i}\n\n\n" for i in range(300))
    source = filler + "import torch\n\n\ndef evaluate(p):\n    c = torch.load(p)\n    return c['epoch']\n"
    line = filler.count("\n") + 5
    assert readers(source) == [(line, ["epoch"], False)]


def test_a_file_that_does_not_parse_is_reported_not_fatal():
    search = find_readers([("broken.py", b"import torch\nckpt = torch.load(p\nckpt['epoch']\n"),
                           ("ok.py", b"import torch\nckpt = torch.load(p)\nckpt['epoch']\n")])
    assert [r.path for r in search.readers] == ["ok.py"]
    assert [f["path"] for f in search.failed] == ["broken.py"] and "cannot parse" in search.failed[0]["error"]


def test_files_that_load_nothing_are_not_parsed():
    search = find_readers([("a.py", b"x = {'epoch': 1}\nprint(x['epoch'])\n"), ("b.py", b"import os\n")])
    assert search.files_parsed == 0 and search.readers == []


def test_a_helper_with_any_name_is_followed_also_in_files_read_before_it_was_known():
    helper = """
        import torch

        def restore_checkpoint(path):
            return torch.load(path)
        """
    caller = """
        import torch
        from helpers import restore_checkpoint
        weights = torch.load(w)["state_dict"]
        ckpt = restore_checkpoint(p)
        print(ckpt["epoch"])
        """
    assert readers(caller, "use.py", **{"helpers.py": helper}) == [(4, ["state_dict"], False), (5, ["epoch"], False)]


def test_lines_from_the_fast_table_agree_with_libcst_positions_and_a_wrong_table_is_not_trusted():
    from pfdtrain.checkpoint_readers.analyse import Parsed, analyse
    from pfdtrain.checkpoint_readers.v1_keys import v1_keys

    source = textwrap.dedent('''
        import torch

        @register(name=f"{torch.load.__name__}")
        def evaluate(path, log=lambda m: print(m)):
            ckpt = torch.load(
                path, map_location="cpu")
            log(f"epoch {ckpt['epoch']}, {[x['a'] for x in ckpt['history']]}")
            return {"w": ckpt["model_state_dict"]}["w"]
        ''').encode()

    def lines(parsed):
        return [(s.line, [(u.line, u.key) for u in s.uses]) for s in analyse(parsed, v1_keys()).sites]

    expected = [(6, [(8, "epoch"), (8, "history"), (9, "model_state_dict")])]
    parsed = Parsed.of(source, v1_keys())
    assert lines(parsed) == expected
    parsed.lines = {kind: [(line + 100, tag) for line, tag in table] for kind, table in parsed.lines.items()}
    parsed.lines["call"] = parsed.lines["call"][1:]  # out of step with the tree: libcst positions are used
    assert lines(parsed) == expected
    parsed.lines = None
    assert lines(parsed) == expected
