import pytest
import torch
from torch import nn

from pfd_testing import make_loader, make_model
from pfdtrain import Trainer
from pfdtrain.errors import ConfigurationError
from pfdtrain.tasks import DistillationTask


def test_teacher_is_frozen_in_eval_mode_never_saved_and_given_back(tmp_path):
    teacher, student = make_model(seed=1), make_model(seed=2)
    teacher.train()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    seen_modes = []
    original_forward = teacher.forward

    def spy(x):
        seen_modes.append((teacher.training, all(not p.requires_grad for p in teacher.parameters())))
        return original_forward(x)

    teacher.forward = spy
    task = DistillationTask(teacher, temperature=2.0, alpha=0.5)
    trainer = Trainer(student, torch.optim.SGD(student.parameters(), lr=0.1), task=task, max_epochs=2,
                      enable_progress_bar=False)
    history = trainer.fit(make_loader(), make_loader(seed=1))
    assert seen_modes and all(m == (False, True) for m in seen_modes)
    assert all(torch.equal(v, before[k]) for k, v in teacher.state_dict().items())
    assert {"train_soft_loss", "train_hard_loss", "val_loss"} <= set(history)
    trainer.save_checkpoint(tmp_path / "s.pt")
    raw = torch.load(tmp_path / "s.pt", weights_only=True)
    assert set(raw["model"]["state_dict"]) == set(student.state_dict())
    task.restore_teacher()
    assert teacher.training and all(p.requires_grad for p in teacher.parameters())


def test_loss_matches_the_distillation_formula():
    teacher, student = make_model(seed=1, dropout=0.0), make_model(seed=2, dropout=0.0)
    x, y = make_loader(n=8, batch_size=8).dataset.tensors
    task = DistillationTask(teacher, temperature=3.0, alpha=0.25)
    task.teacher.eval()
    out = task.training_step(student, (x, y), trainer=None)
    s, t = student(x), teacher(x).detach()
    soft = nn.functional.kl_div(nn.functional.log_softmax(s / 3, 1), nn.functional.softmax(t / 3, 1),
                                reduction="batchmean") * 9
    expected = 0.25 * soft + 0.75 * nn.functional.cross_entropy(s, y)
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("kw", [{"temperature": 0}, {"alpha": 1.5}])
def test_bad_arguments(kw):
    with pytest.raises(ConfigurationError):
        DistillationTask(make_model(), **kw)
