import torch

from pfdtrain.data import FAULT_CLASSES, make_vibration_dataset


def test_shapes_labels_and_reproducibility():
    a = make_vibration_dataset(samples_per_class=3, length=512, seed=4)
    b = make_vibration_dataset(samples_per_class=3, length=512, seed=4)
    signals, labels, rpm = a.tensors
    assert signals.shape == (33, 1, 512) and signals.dtype == torch.float32
    assert sorted(labels.tolist()) == sorted(list(range(11)) * 3)
    assert len(FAULT_CLASSES) == 11
    assert all(torch.equal(x, y) for x, y in zip(a.tensors, b.tensors, strict=True))
    assert ((rpm > 3500) & (rpm < 3700)).all()


def test_imbalance_signal_peaks_at_the_shaft_frequency():
    signals, labels, rpm = make_vibration_dataset(samples_per_class=1, length=20480, noise=0.0, seed=1).tensors
    i = int((labels == 2).nonzero()[0])
    spectrum = torch.fft.rfft(signals[i, 0]).abs()
    peak_hz = int(spectrum.argmax())  # 1 Hz bins for 20480 samples at 20480 Hz
    assert abs(peak_hz - float(rpm[i]) / 60.0) <= 1.0
