"""Legacy Trainer family adapters: behaviour the golden cases do not pin, checked against plain
loops written from the legacy specification (``shared/legacy-api.md`` section 3)."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from pfd_testing import make_data, make_model
from pfdtrain.compat.knowledge_distillation import DistillationLoss, DistillationTrainer
from pfdtrain.compat.mixed_precision import MixedPrecisionTrainer
from pfdtrain.compat.pinn_trainer import PINNTrainer
from pfdtrain.compat.progressive_resizing import ProgressiveResizingTrainer, ResizableSignalDataset
from pfdtrain.compat.spectrogram_trainer import MultiTFRTrainer, SpectrogramTrainer
from pfdtrain.compat.trainer import Trainer


def _loader(n=24, batch_size=8, seed=0, extra=()):
    x, y = make_data(n, seed=seed)
    return DataLoader(TensorDataset(x, y, *extra), batch_size=batch_size, generator=torch.Generator())


def _same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=False))


def test_trainer_errors_and_devices_like_legacy():
    model = make_model(dropout=0.0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="too many values to unpack"):
        Trainer(model, _loader(extra=(torch.zeros(24),)), optimizer=opt, device="cpu").train_epoch()
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'step'"):
        Trainer(model, _loader(), device=torch.device("cpu")).train_epoch()
    trainer = Trainer(model, _loader(), _loader(seed=1), optimizer=opt, device=torch.device("cpu"))
    assert trainer.fit(1) is None and not model.training  # legacy left the model in eval mode
    if not torch.cuda.is_available():
        with pytest.raises((AssertionError, RuntimeError)):
            Trainer(make_model(), _loader())  # default device 'cuda'


def test_amp_on_a_cpu_machine_is_plain_float32(capsys):
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    a, b = make_model(dropout=0.0), make_model(dropout=0.0)
    MixedPrecisionTrainer(a, _loader(), optimizer=torch.optim.SGD(a.parameters(), lr=0.1), device="cpu").fit(2)
    Trainer(b, _loader(), optimizer=torch.optim.SGD(b.parameters(), lr=0.1), device="cpu").fit(2)
    assert _same_weights(a, b)


def test_amp_step_goes_through_the_adapters_own_grad_scaler():
    """A scaler of the caller's (a CPU one here): loss scaled, unscaled before clipping, stepped."""
    a, b = make_model(dropout=0.0), make_model(dropout=0.0)
    scaler = torch.amp.GradScaler("cpu", init_scale=16.0)
    steps = []
    original = scaler.step
    scaler.step = lambda opt, *args, **kw: steps.append(1) or original(opt, *args, **kw)
    trainer = MixedPrecisionTrainer(a, _loader(), optimizer=torch.optim.SGD(a.parameters(), lr=0.1), device="cpu",
                                    grad_scaler=scaler, max_grad_norm=0.5)
    trainer.fit(2)
    Trainer(b, _loader(), optimizer=torch.optim.SGD(b.parameters(), lr=0.1), device="cpu", max_grad_norm=0.5).fit(2)
    assert trainer.scaler is scaler and len(steps) == 6 and scaler.get_scale() == 16.0
    assert all(torch.allclose(p, q, atol=1e-7) for p, q in zip(a.parameters(), b.parameters(), strict=False))


def test_pinn_start_epoch_is_the_first_epoch_and_compute_loss_overrides_are_used(capsys):
    calls = []

    class MyPINN(PINNTrainer):
        def compute_loss(self, outputs, targets, signal, metadata=None):
            calls.append(self.current_lambda_physics)
            ce = self.criterion(outputs, targets)
            return ce, {"ce_loss": ce.item(), "physics_loss": 0.0, "total_loss": ce.item()}

    model = make_model(dropout=0.0)
    trainer = MyPINN(model, _loader(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), device="cpu")
    history = trainer.train(4, start_epoch=2)
    assert len(history["train_loss"]) == 2 and trainer.state.epoch == 3
    assert sorted(set(calls)) == [0.25, 0.375]  # linear schedule from epoch / num_epochs
    assert "Epoch 3/4:" in capsys.readouterr().out


def test_spectrogram_save_checkpoint_str_path_fails_after_the_first_file(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
    loader = DataLoader(TensorDataset(torch.rand(4, 1, 6, 8), torch.zeros(4).long()), batch_size=2)
    trainer = SpectrogramTrainer(model, loader, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                                 device="cpu")
    with pytest.raises(AttributeError, match="'str' object has no attribute 'parent'"):
        trainer.save_checkpoint(str(tmp_path / "last.pth"), is_best=True)
    assert (tmp_path / "last.pth").exists() and not (tmp_path / "best_model.pth").exists()


def _legacy_multi_tfr_epoch(model, loaders, weights, opt, accum, max_norm):
    """Legacy MultiTFRTrainer.train_epoch (spec 3.4), SpecAugment off."""
    model.train()
    out = {}
    for tfr, loader in loaders.items():
        total, correct, n = 0.0, 0, 0
        for batch_idx, (x, y) in enumerate(loader):
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y) * weights[tfr]
            loss.backward()
            if (batch_idx + 1) % accum == 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
                opt.step()
                opt.zero_grad()
            total += loss.item() * y.size(0)
            correct += logits.max(1)[1].eq(y).sum().item()
            n += y.size(0)
        out[f"{tfr}_loss"], out[f"{tfr}_acc"] = total / n, 100.0 * correct / n
    return out


def test_multi_tfr_accumulation_restarts_per_loader_and_carries_leftovers():
    loaders = {"stft": _loader(24, 8, seed=0), "cwt": _loader(24, 8, seed=1)}  # 3 batches each
    ref_model, model = make_model(dropout=0.0), make_model(dropout=0.0)
    ref_opt = torch.optim.SGD(ref_model.parameters(), lr=0.1, momentum=0.9)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    trainer = MultiTFRTrainer(model, loaders, tfr_weights={"stft": 3.0, "cwt": 1.0}, optimizer=opt, device="cpu",
                              use_specaugment=False, gradient_accumulation_steps=2, max_grad_norm=0.5)
    for _ in range(2):
        got = trainer.train_epoch()
        want = _legacy_multi_tfr_epoch(ref_model, loaders, trainer.tfr_weights, ref_opt, 2, 0.5)
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=1e-6)
        assert got["train_loss"] == pytest.approx(0.75 * want["stft_loss"] + 0.25 * want["cwt_loss"], rel=1e-6)
    assert _same_weights(model, ref_model)
    for p, q in zip(model.parameters(), ref_model.parameters(), strict=False):  # the leftover window stays in .grad
        assert q.grad is not None and torch.allclose(p.grad, q.grad)


def _legacy_plain_epoch(model, loader, opt):
    """Legacy ProgressiveResizingTrainer.train_epoch (spec 3.5): zero_grad between loss and backward."""
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in loader:
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
        correct += logits.max(1)[1].eq(y).sum().item()
        n += y.size(0)
    return total / len(loader), 100.0 * correct / n


def test_progressive_epoch_matches_the_legacy_loop_including_final_gradients():
    loader = _loader(20, 8)  # batches of 8, 8, 4: batch means differ from sample means
    ref_model, model = make_model(dropout=0.0), make_model(dropout=0.0)
    ref_opt = torch.optim.Adam(ref_model.parameters(), lr=0.01)
    trainer = ProgressiveResizingTrainer(model, torch.optim.Adam(model.parameters(), lr=0.01),
                                         nn.CrossEntropyLoss())
    for epoch in range(2):
        got = trainer.train_epoch(loader, epoch)
        loss, acc = _legacy_plain_epoch(ref_model, loader, ref_opt)
        assert got == {"train_loss": pytest.approx(loss, rel=1e-6), "train_accuracy": pytest.approx(acc)}
    assert _same_weights(model, ref_model)
    assert all(torch.equal(p.grad, q.grad) for p, q in zip(model.parameters(), ref_model.parameters(), strict=False))


def test_resizable_dataset_converts_non_tensors_and_resize_errors():
    ds = ResizableSignalDataset([([0.0, 1.0, 2.0, 3.0], 1)], target_length=2, resize_method="subsample")
    signal, label = ds[0]
    assert signal.dtype == torch.float32 and signal.tolist() == [0.0, 2.0] and label == 1
    ds.resize_method = "fft"
    with pytest.raises(ValueError, match=r"^Unknown resize method: fft$"):
        ds[0]


def test_distillation_freezes_the_teacher_and_matches_the_legacy_loop():
    teacher, student, ref_student = make_model(seed=3, dropout=0.0), make_model(dropout=0.0), make_model(dropout=0.0)
    crit = DistillationLoss()
    trainer = DistillationTrainer(teacher, student, crit, torch.optim.SGD(student.parameters(), lr=0.1))
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    ref_opt = torch.optim.SGD(ref_student.parameters(), lr=0.1)
    loader = _loader(20, 8)
    got = trainer.train_epoch(loader, 0)
    total, soft, n_batches = 0.0, 0.0, 0
    for x, y in loader:
        with torch.no_grad():
            t = teacher(x)
        loss, parts = crit(ref_student(x), t, y)
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        total, soft, n_batches = total + loss.item(), soft + parts["soft_loss"], n_batches + 1
    assert list(got) == ["train_loss", "train_soft_loss", "train_hard_loss", "train_accuracy"]
    assert got["train_loss"] == pytest.approx(total / n_batches, rel=1e-6)
    assert got["train_soft_loss"] == pytest.approx(soft / n_batches, rel=1e-6)
    assert _same_weights(student, ref_student)


LEGACY_NAMES = {
    "trainer": ["TrainingState", "Trainer"],
    "cnn_trainer": ["CNNTrainer", "test_cnn_trainer"],
    "pinn_trainer": ["PINNTrainingState", "PINNTrainer"],
    "spectrogram_trainer": ["SpectrogramTrainer", "MultiTFRTrainer"],
    "mixed_precision": ["MixedPrecisionTrainer", "enable_mixed_precision", "check_mixed_precision_support"],
    "progressive_resizing": ["ResizableSignalDataset", "resize_signal", "ProgressiveResizingTrainer"],
    "knowledge_distillation": ["DistillationLoss", "DistillationTrainer", "compare_teacher_student"],
    "callbacks": ["Callback", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "TensorBoardLogger",
                  "MLflowLogger", "ProgressPrinter", "adapt_callback"],
    "cnn_callbacks": ["Callback", "CallbackList", "LearningRateMonitor", "GradientMonitor", "ModelCheckpointCallback",
                      "TimingCallback", "MetricLogger", "EarlyStoppingCallback", "test_callbacks"],
}


@pytest.mark.parametrize("module", sorted(LEGACY_NAMES))
def test_adapter_exports_legacy_names(module):
    import importlib

    adapter = importlib.import_module(f"pfdtrain.compat.{module}")
    assert set(LEGACY_NAMES[module]) <= set(adapter.__all__)
    assert all(hasattr(adapter, name) for name in LEGACY_NAMES[module])


def test_new_api_self_test_runs(capsys):
    from pfdtrain.compat import cnn_callbacks

    cnn_callbacks.test_callbacks()
    assert "passed" in capsys.readouterr().out


def test_fit_calls_epoch_methods_a_subclass_overrides(capsys):
    from pfdtrain.compat.cnn_trainer import CNNTrainer

    calls = []

    class Counting(Trainer):
        def train_epoch(self):
            calls.append(("train", self.state.epoch))
            return super().train_epoch()

        def validate_epoch(self):
            calls.append(("val", self.state.epoch))
            return super().validate_epoch()

    class CountingCNN(CNNTrainer):
        def train_epoch(self):
            calls.append(("cnn", self.current_epoch))
            return super().train_epoch()

    a, b, c, d = (make_model(dropout=0.0) for _ in range(4))
    Counting(a, _loader(), _loader(seed=1), optimizer=torch.optim.SGD(a.parameters(), lr=0.1), device="cpu").fit(2)
    overridden = capsys.readouterr().out
    Trainer(b, _loader(), _loader(seed=1), optimizer=torch.optim.SGD(b.parameters(), lr=0.1), device="cpu").fit(2)
    assert overridden == capsys.readouterr().out and overridden.count("Val Loss") == 2
    history = CountingCNN(c, _loader(), _loader(seed=1), optimizer=torch.optim.SGD(c.parameters(), lr=0.1),
                          device="cpu", mixed_precision=False).fit(2, verbose=False)
    reference = CNNTrainer(d, _loader(), _loader(seed=1), optimizer=torch.optim.SGD(d.parameters(), lr=0.1),
                           device="cpu", mixed_precision=False).fit(2, verbose=False)
    assert calls == [("train", 0), ("val", 0), ("train", 1), ("val", 1), ("cnn", 0), ("cnn", 1)]
    assert _same_weights(a, b) and _same_weights(c, d)
    assert all(history[k] == pytest.approx(reference[k]) for k in reference)
