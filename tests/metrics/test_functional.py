import pytest
import torch

from pfdtrain.metrics import (
    accuracy,
    confusion_matrix,
    f1_score,
    per_class_metrics,
    precision_recall_f1,
    top_k_accuracy,
)

# targets / predictions of 8 samples; class 3 only ever predicted, class 4 never occurs
TARGETS = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
PREDS = torch.tensor([0, 0, 1, 1, 3, 2, 0, 2])
# rows = targets, columns = predictions, written out by hand
CM = [[2, 1, 0, 0], [0, 1, 0, 1], [1, 0, 2, 0], [0, 0, 0, 0]]
# per class (precision, recall, f1) by hand: tp / predicted, tp / support, 2tp / (predicted + support)
P = [2 / 3, 1 / 2, 2 / 2, 0.0]
R = [2 / 3, 1 / 2, 2 / 3, 0.0]  # class 3: no support -> zero_division = 0
F1 = [4 / 6, 2 / 4, 4 / 5, 0.0]
SUPPORT = [3, 2, 3, 0]


def test_confusion_matrix_by_hand():
    assert confusion_matrix(PREDS, TARGETS).tolist() == CM
    padded = confusion_matrix(PREDS, TARGETS, num_classes=5)
    assert padded.shape == (5, 5) and padded[:4, :4].tolist() == CM and padded.dtype == torch.int64
    assert confusion_matrix(PREDS, TARGETS, num_classes=3).sum() == 7  # the sample predicted as 3 is ignored


def test_averages_by_hand():
    p, r, f = precision_recall_f1(PREDS, TARGETS, "macro")
    # macro over the classes present in targets or predictions (0-3), like sklearn
    assert p.item() == pytest.approx(sum(P) / 4) and r.item() == pytest.approx(sum(R) / 4)
    assert f.item() == pytest.approx(sum(F1) / 4)
    assert f1_score(PREDS, TARGETS, "macro", num_classes=6).item() == pytest.approx(sum(F1) / 4)  # absent 4, 5 skipped
    weighted = sum(s * x for s, x in zip(SUPPORT, F1, strict=True)) / 8
    assert f1_score(PREDS, TARGETS, "weighted").item() == pytest.approx(weighted)
    assert f1_score(PREDS, TARGETS, "micro").item() == pytest.approx(5 / 8)
    assert f.dtype == torch.float64


def test_accuracy_topk_and_per_class():
    logits = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5]])
    targets = torch.tensor([2, 0, 1])
    assert accuracy(logits, targets).item() == pytest.approx(1 / 3)
    assert top_k_accuracy(logits, targets, k=2).item() == pytest.approx(3 / 3)
    assert top_k_accuracy(logits, targets, k=1).item() == pytest.approx(1 / 3)
    with pytest.raises(RuntimeError):
        top_k_accuracy(logits, targets, k=4)
    stats = per_class_metrics(PREDS, TARGETS, 4)
    assert stats["precision"].tolist() == pytest.approx(P) and stats["f1_score"].tolist() == pytest.approx(F1)


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\[3\] and targets \[2\]"):
        accuracy(torch.zeros(3, dtype=torch.long), torch.zeros(2, dtype=torch.long))
