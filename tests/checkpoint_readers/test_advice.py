"""The lines a reader of v1 keys should write instead: each case is the code before and after."""

from __future__ import annotations

import textwrap

import pytest
import torch

from pfdtrain.checkpoint_readers import apply_edits, edits, find_readers


def fixed(source: str) -> str:
    text = textwrap.dedent(source)
    [reader] = find_readers([("script.py", text.encode())]).readers
    return apply_edits(text, edits(reader))


CASES = {
    "the usual evaluation script": ('''
        """Evaluate."""
        import torch

        def evaluate(path):
            checkpoint = torch.load(path, map_location="cpu", weights_only=False)
            model.load_state_dict(checkpoint["model_state_dict"])
            return checkpoint["epoch"], checkpoint['best_val_acc']
        ''', '''
        """Evaluate."""
        import torch
        from pfdtrain.checkpoint import load_any

        def evaluate(path):
            checkpoint = load_any(path, map_location="cpu")
            model.load_state_dict(checkpoint["model"]["state_dict"])
            return (checkpoint["training"]["epoch"] - 1), checkpoint['training']['best_metric']
        '''),
    "get, pop, in and not in": ('''
        import torch
        ckpt = torch.load(f=path)
        if "scheduler_state_dict" in ckpt and 'args' not in ckpt:
            sched.load_state_dict(ckpt.get("scheduler_state_dict"))
        metrics = ckpt.pop("metrics", {})
        ''', '''
        import torch
        from pfdtrain.checkpoint import load_any
        ckpt = load_any(path)
        if ckpt["scheduler"] is not None and 'args' not in ckpt['config']:
            sched.load_state_dict(ckpt.get("scheduler"))
        metrics = ckpt["extra"].pop("metrics", {})
        '''),
    "direct use of the call, and a bare state dict": ('''
        import torch as T
        opt.load_state_dict(T.load(p)["optimizer_state_dict"])
        ''', '''
        import torch as T
        from pfdtrain.checkpoint import load_any
        opt.load_state_dict(load_any(p)["optimizer"])
        '''),
    "a bare state dict": ('''
        import torch
        model.load_state_dict(torch.load(p, map_location=device), strict=False)
        ''', '''
        import torch
        from pfdtrain.checkpoint import load_any
        model.load_state_dict(load_any(p, map_location=device)["model"]["state_dict"], strict=False)
        '''),
}


@pytest.mark.parametrize("case", CASES)
def test_before_and_after(case):
    before, after = CASES[case]
    assert fixed(before) == textwrap.dedent(after)


def test_the_fixed_reader_reads_a_migrated_file_as_the_old_one_read_the_v1_file(tmp_path):
    """The advice is checked against the migration itself: same values from the v2 file."""
    from pfdtrain.migration.migrate import migrate_file

    v1 = {"epoch": 4, "model_state_dict": {"w": torch.arange(3.0)}, "optimizer_state_dict": {"state": {}},
          "best_val_acc": 61.5, "best_val_loss": 0.7, "history": {"val_acc": [50.0, 61.5]}}
    torch.save(v1, tmp_path / "best_model.pth")
    source = textwrap.dedent("""
        import torch

        def read(path):
            c = torch.load(path, map_location="cpu")
            return (c["model_state_dict"], c["epoch"], c["best_val_acc"], c.get("best_val_loss"), c["history"],
                    "scheduler_state_dict" in c)
        """)
    old = {}
    exec(compile(source, "old.py", "exec"), old)  # the test's own source text
    expected = old["read"](tmp_path / "best_model.pth")
    assert migrate_file(tmp_path / "best_model.pth").status == "migrated"
    with pytest.raises(KeyError):
        old["read"](tmp_path / "best_model.pth")
    new = {}
    exec(compile(fixed(source), "new.py", "exec"), new)
    got = new["read"](tmp_path / "best_model.pth")
    assert torch.equal(got[0]["w"], expected[0]["w"]) and got[1:] == expected[1:]
    assert new["read"](tmp_path / "best_model.pth.v1.bak")[1:] == expected[1:]  # and v1 files still


def test_a_loader_helper_call_says_where_to_change_the_helper():
    helper = b"import torch\n\ndef load_checkpoint(p):\n    return torch.load(p)\n"
    caller = b"from helpers import load_checkpoint\nckpt = load_checkpoint(p)\nprint(ckpt['epoch'])\n"
    [reader] = find_readers([("helpers.py", helper), ("use.py", caller)]).readers
    first, second = edits(reader)
    assert first.new is None and "load_checkpoint (defined at helpers.py:3) returns what torch.load read" in first.note
    assert second.new == "(ckpt['training']['epoch'] - 1)"
    with pytest.raises(ValueError, match=r"returns what torch\.load read"):
        apply_edits(caller.decode(), [first, second])


def test_an_edit_that_does_not_match_the_text_changes_nothing():
    text = "import torch\nckpt = torch.load(p)\nprint(ckpt['epoch'])\n"
    [reader] = find_readers([("a.py", text.encode())]).readers
    with pytest.raises(ValueError, match="is not there"):
        apply_edits(text.replace("ckpt['epoch']", 'ckpt["epoch"]'), edits(reader))
