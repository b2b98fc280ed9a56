import math

import pytest
import torch

from pfd_testing import weights_only_roundtrip
from pfdtrain.optim import SCHEDULERS, LinearWarmup, create_scheduler


def _opt(lr=0.1):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=lr)


def _run(sched, opt, steps):
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


KWARGS = {
    "warmup": {"warmup_steps": 3},
    "warmup_cosine": {"warmup_steps": 2, "total_steps": 8},
    "warmup_linear": {"warmup_steps": 2, "total_steps": 8, "min_lr_ratio": 0.1},
    "cosine": {"T_max": 8},
    "cosine_restarts": {"T_0": 3},
    "step": {"step_size": 2},
    "exponential": {"gamma": 0.9},
    "polynomial": {"total_steps": 8, "power": 2.0},
    "onecycle": {"max_lr": 0.5, "total_steps": 20},
    "plateau": {},
    "noam": {"d_model": 16, "warmup_steps": 4},
}


def test_every_name_builds_a_torch_scheduler_with_plain_data_state():
    assert set(KWARGS) == set(SCHEDULERS)
    for name, kwargs in KWARGS.items():
        opt = _opt()
        sched = create_scheduler(name, opt, **kwargs)
        assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler), name
        for _ in range(3):
            opt.step()
            sched.step(1.0) if name == "plateau" else sched.step()
        weights_only_roundtrip(sched.state_dict())  # plain data only: no lambdas, no objects


def test_unknown_name_lists_valid_names_and_unknown_keyword_fails():
    with pytest.raises(ValueError, match=r"Unknown scheduler 'poly'\. Valid names: ") as err:
        create_scheduler("poly", _opt())
    assert all(name in str(err.value) for name in SCHEDULERS)
    with pytest.raises(TypeError):
        create_scheduler("warmup_cosine", _opt(), warmup=2, total_steps=8)


def test_warmup_cosine_values_and_clamp():
    opt = _opt()
    lrs = _run(create_scheduler("warmup_cosine", opt, warmup_steps=2, total_steps=6, min_lr_ratio=0.1), opt, 8)
    expected = [0.05, 0.1] + [0.1 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * k / 4))) for k in range(5)] + [0.01] * 2
    assert lrs == pytest.approx(expected)


def test_linear_warmup_hands_over_continuously_and_resumes():
    opt = _opt()
    after = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    sched = LinearWarmup(opt, 2, after=after)
    lrs = _run(sched, opt, 6)
    assert lrs == pytest.approx([0.05, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert sched.get_last_lr() == pytest.approx([0.025])
    # resume from a state dict on fresh objects
    opt2 = _opt()
    after2 = torch.optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    sched2 = LinearWarmup(opt2, 2, after=after2)
    sched2.load_state_dict(sched.state_dict())
    opt2.load_state_dict(opt.state_dict())
    assert _run(sched, opt, 2)[1:] == _run(sched2, opt2, 2)[1:]


def test_noam_and_polynomial_values():
    opt = _opt(1.0)
    lrs = _run(create_scheduler("noam", opt, d_model=16, warmup_steps=4), opt, 5)
    expected = [0.25 * min(max(1, s) ** -0.5, max(1, s) * 4**-1.5) for s in range(6)]
    assert lrs == pytest.approx(expected)
    opt = _opt()
    lrs = _run(create_scheduler("polynomial", opt, total_steps=4, power=2.0, end_lr=0.01), opt, 5)
    assert lrs == pytest.approx([0.01 + 0.09 * (1 - t / 4) ** 2 for t in range(4)] + [0.01, 0.01])
