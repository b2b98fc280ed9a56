"""Each core loss's variant parameter reproduces the value recorded from the other legacy module."""

import json
from pathlib import Path

import pytest
import torch

from pfdtrain.losses import DistillationLoss, LabelSmoothingCrossEntropy, compute_class_weights, focal_loss

GOLDEN = Path(__file__).parents[2] / "golden" / "numerics"


def _case(module, case_id):
    doc = json.loads((GOLDEN / f"{module}.json").read_text())
    return next(c for c in doc["cases"] if c["id"] == case_id)


def _t(enc):
    return torch.tensor(enc["tensor"], dtype=getattr(torch, enc["dtype"])).reshape(enc["shape"])


@pytest.mark.parametrize(("module", "log_eps"), [("losses", None), ("cnn_losses", 1e-8)])
def test_focal_variants_on_confidently_wrong_rows(module, log_eps):
    case = _case(module, f"{module}.focal.hard_examples.none")
    logits, targets = (_t(v) for v in case["inputs"].values())
    got = focal_loss(logits, targets, 2.0, reduction="none", log_eps=log_eps)
    torch.testing.assert_close(got, _t(case["expected"]["output"]), rtol=1e-5, atol=1e-6)


def test_uniform_label_smoothing_variant():
    case = _case("losses", "losses.label_smoothing.smoothing_1_accepted")
    logits, targets = (_t(v) for v in case["inputs"].values())
    got = LabelSmoothingCrossEntropy(1.0, allow_uniform=True)(logits, targets)
    torch.testing.assert_close(got, _t(case["expected"]["output"]), rtol=1e-5, atol=1e-6)


def test_class_weight_variant_for_missing_classes():
    case = _case("losses", "losses.class_weights.missing_class")
    got = compute_class_weights(_t(case["inputs"]["targets"]), 11, missing_class_weight=None)
    torch.testing.assert_close(got, _t(case["expected"]["output"]), rtol=1e-5, atol=1e-6)


def test_distillation_teacher_gradient_variant():
    case = _case("knowledge_distillation", "knowledge_distillation.loss.T2.0.a0.5.mse")
    student, teacher, labels = (_t(case["inputs"][k]) for k in ("student_logits", "teacher_logits", "labels"))
    teacher.requires_grad_(True)
    total, _ = DistillationLoss(2.0, 0.5, "mse", detach_teacher=False)(student, teacher, labels)
    (grad,) = torch.autograd.grad(total, teacher)
    torch.testing.assert_close(grad, _t(case["expected"]["grads"]["teacher_logits"]), rtol=1e-5, atol=1e-6)
