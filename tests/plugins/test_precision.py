import warnings

import pytest
import torch

from pfd_testing import make_loader, make_model
from pfdtrain import ClassificationTask, Trainer
from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins import MixedPrecision


def _dtype_spy():
    seen = []

    def criterion(logits, targets):
        seen.append(logits.dtype)
        return torch.nn.functional.cross_entropy(logits, targets)

    return ClassificationTask(criterion=criterion), seen


def _fit(plugin, epochs=1, **kw):
    task, seen = _dtype_spy()
    model = make_model(dropout=0.0)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), task=task, plugins=[plugin],
                      max_epochs=epochs, enable_progress_bar=False, **kw)
    trainer.fit(make_loader())
    return trainer, seen


def test_bf16_autocast_runs_on_cpu():
    trainer, seen = _fit(MixedPrecision("bf16-mixed"))
    assert set(seen) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())  # master weights stay fp32
    assert torch.isfinite(torch.tensor(trainer.history["train_loss"])).all()


def test_fp16_without_cuda_falls_back_to_fp32_with_one_warning():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the fallback does not apply")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer, seen = _fit(MixedPrecision("16-mixed"), epochs=2)
    mine = [w for w in caught if "16-mixed" in str(w.message)]
    assert len(mine) == 1 and "fp32" in str(mine[0].message)
    assert set(seen) == {torch.float32}
    assert trainer.precision_plugin.scaler is None


def test_fp16_grad_scaler_state_is_checkpointed_and_restored(tmp_path):
    plugin = MixedPrecision("16-mixed", init_scale=1024.0, growth_interval=2, allow_fp16_on_cpu=True)
    trainer, seen = _fit(plugin)
    assert set(seen) == {torch.float16}
    scale = trainer.precision_plugin.scaler.get_scale()
    assert scale == 1024.0 * 2 ** (8 // 2)  # 8 finite steps, growth every 2
    trainer.save_checkpoint(tmp_path / "c.pt")
    raw = torch.load(tmp_path / "c.pt", weights_only=True)
    assert raw["scaler"]["scale"] == scale and raw["config"]["precision"] == "16-mixed"
    resumed = MixedPrecision("16-mixed", init_scale=1.0, allow_fp16_on_cpu=True)
    model = make_model(dropout=0.0)
    t2 = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), plugins=[resumed], max_epochs=1,
                 enable_progress_bar=False)
    t2.fit(make_loader(), ckpt_path=tmp_path / "c.pt")
    assert resumed.scaler.get_scale() == scale


def test_unknown_precision_lists_the_valid_ones():
    with pytest.raises(ConfigurationError, match=r"\['32', '16-mixed', 'bf16-mixed'\]"):
        MixedPrecision("8-bit")


def test_no_deprecated_cuda_amp_api_is_used():
    # code only: the legacy map and the compat docs name the deprecated module as what legacy used
    import ast
    import pathlib

    import pfdtrain

    def dotted(node: ast.AST) -> str:
        return f"{dotted(node.value)}.{node.attr}" if isinstance(node, ast.Attribute) else getattr(node, "id", "")

    def uses(tree: ast.AST) -> bool:
        for node in ast.walk(tree):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import)
                     else [dotted(node)] if isinstance(node, ast.Attribute) else [])
            if any(n == "torch.cuda.amp" or n.startswith("torch.cuda.amp.") for n in names):
                return True
        return False

    root = pathlib.Path(pfdtrain.__file__).parent
    offenders = [p for p in root.rglob("*.py") if uses(ast.parse(p.read_text(encoding="utf-8")))]
    assert offenders == []


def test_fp16_refuses_a_plugin_that_cannot_handle_scaled_gradients():
    from pfdtrain.plugins import Plugin

    class RawGradientSurgery(Plugin):
        supports_grad_scaling = False

    model = make_model()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1),
                      plugins=[MixedPrecision("16-mixed", allow_fp16_on_cpu=True), RawGradientSurgery()],
                      max_epochs=1, enable_progress_bar=False)
    with pytest.raises(ConfigurationError, match=r"RawGradientSurgery.*bf16-mixed"):
        trainer.fit(make_loader())
    assert all(p.grad is None for p in model.parameters())  # refused before any step
