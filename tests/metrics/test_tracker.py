import pytest
import torch

from pfdtrain.metrics import MetricsTracker, average_from_confusion, confusion_matrix


def _batches():
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):
        yield torch.randn(6, 5, generator=gen), torch.randint(0, 5, (6,), generator=gen)


@pytest.mark.parametrize("num_classes", [None, 5])
def test_tracker_equals_one_shot_computation(num_classes):
    tracker = MetricsTracker(num_classes)
    assert tracker.compute() == {}
    scores, targets = zip(*_batches(), strict=True)
    for s, t in zip(scores, targets, strict=True):
        tracker.update(s, t)
    expected = average_from_confusion(confusion_matrix(torch.cat(scores), torch.cat(targets)), "weighted")
    got = tracker.compute("weighted")
    assert {k: v.item() for k, v in got.items()} == pytest.approx({k: v.item() for k, v in expected.items()})
    tracker.reset()
    assert tracker.compute() == {}


def test_update_never_reads_values_back_to_the_host(monkeypatch):
    tracker = MetricsTracker(num_classes=5)

    def forbidden(*args, **kwargs):
        raise AssertionError("host synchronisation inside update()")

    for name in ("item", "tolist", "numpy", "__bool__", "__int__", "__float__", "__index__"):
        monkeypatch.setattr(torch.Tensor, name, forbidden)
    for s, t in _batches():
        tracker.update(s, t)
    monkeypatch.undo()
    assert tracker.confusion_matrix().sum().item() == 24


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_update_on_device_without_synchronisation(device):
    tracker = MetricsTracker(num_classes=5)
    if device == "cuda":
        torch.cuda.set_sync_debug_mode("error")  # any host sync inside update() raises
    try:
        for s, t in _batches():
            tracker.update(s.to(device), t.to(device))
    finally:
        if device == "cuda":
            torch.cuda.set_sync_debug_mode("default")
    assert tracker.compute()["accuracy"].device.type == device
