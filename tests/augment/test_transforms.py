import pytest
import torch

from pfdtrain.augment import (
    AmplitudeScale,
    Compose,
    CutMix,
    GaussianNoise,
    Mixup,
    PatchCutout,
    PatchDropout,
    PatchJitter,
    PatchPermutation,
    PatchShift,
    RandomApply,
    SpecAugment,
    TimeMask,
    TimeShift,
)

SIGNAL = torch.randn(4, 2, 64, generator=torch.Generator().manual_seed(0))
PATCHES = torch.randn(4, 12, 6, generator=torch.Generator().manual_seed(1))
SPEC = torch.randn(3, 2, 16, 20, generator=torch.Generator().manual_seed(2))

SINGLE = [
    (lambda **g: GaussianNoise(0.1, **g), SIGNAL),
    (lambda **g: AmplitudeScale(0.5, 1.5, **g), SIGNAL),
    (lambda **g: TimeShift(8, **g), SIGNAL),
    (lambda **g: TimeShift(8, circular=False, **g), SIGNAL),
    (lambda **g: TimeMask(16, 2, **g), SIGNAL),
    (lambda **g: SpecAugment(6, 5, **g), SPEC),
    (lambda **g: PatchDropout(0.3, **g), PATCHES),
    (lambda **g: PatchShift(3, **g), PATCHES),
    (lambda **g: PatchCutout(2, 3, **g), PATCHES),
    (lambda **g: PatchPermutation(0.4, **g), PATCHES),
    (lambda **g: PatchJitter(0.05, **g), PATCHES),
    (lambda **g: RandomApply(GaussianNoise(0.1, seed=3), 0.5, **g), SIGNAL),
]


@pytest.mark.parametrize(("build", "x"), SINGLE)
def test_reproducible_from_a_seeded_generator_and_global_rng_untouched(build, x, global_rng_untouched):
    a = build(generator=torch.Generator().manual_seed(7))(x)
    b = build(generator=torch.Generator().manual_seed(7))(x)
    assert torch.equal(a, b) and a.shape == x.shape
    assert torch.equal(build(seed=7)(x), build(seed=7)(x))  # owned generators with the same seed
    outputs = [build(generator=torch.Generator().manual_seed(s))(x) for s in range(6)]
    assert any(not torch.equal(outputs[0], o) for o in outputs[1:])


@pytest.mark.parametrize(("build", "x"), SINGLE[:-1])
def test_single_sample_and_batch(build, x, global_rng_untouched):
    one = build(seed=0)(x[0])
    assert one.shape == x[0].shape
    before = x.clone()  # inputs are never modified in place
    build(seed=0)(x)
    assert torch.equal(x, before)


def test_owned_generators_differ_between_dataloader_workers(monkeypatch):
    class Info:
        def __init__(self, id):
            self.id = id

    outputs = []
    for worker in (0, 1):
        monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda w=worker: Info(w))
        outputs.append(GaussianNoise(1.0, seed=5)(SIGNAL))
    assert not torch.equal(outputs[0], outputs[1])


def test_structure_of_masks_shifts_and_permutations():
    masked = TimeMask(16, 1, seed=0)(SIGNAL)
    assert ((masked == 0) == (masked == 0)[:, :1]).all()  # same span on every channel
    spec = SpecAugment(6, 5, seed=1)(SPEC)
    zero = spec == 0
    rows, cols = zero.all(dim=3), zero.all(dim=2)  # masked rows / columns are entirely zero
    assert torch.equal(zero, rows[..., None] | cols[..., None, :])
    shifted = TimeShift(8, seed=2)(SIGNAL)
    for b in range(4):
        assert any(torch.equal(shifted[b], SIGNAL[b].roll(s, -1)) for s in range(-8, 9))
    perm = PatchPermutation(0.4, seed=3)(PATCHES)
    assert torch.equal(perm.sort(dim=1).values, PATCHES.sort(dim=1).values)
    assert not torch.equal(perm, PATCHES)
    kept = PatchDropout(0.5, seed=4)(PATCHES)
    ratio = kept / PATCHES
    assert torch.all((ratio.abs() < 1e-6) | ((ratio - 2).abs() < 1e-5))
    assert torch.equal(PatchDropout(1.0, seed=0)(PATCHES), torch.zeros_like(PATCHES))


def test_cutmix_and_mixup_labels(global_rng_untouched):
    labels = torch.tensor([0, 1, 2, 3])
    mixed, soft = CutMix(num_classes=6, seed=0)(SIGNAL, labels)
    assert soft.shape == (4, 6) and torch.allclose(soft.sum(1), torch.ones(4))
    changed = (mixed != SIGNAL).any(dim=1).float().mean(dim=1)  # share of time steps pasted
    own = soft[torch.arange(4), labels]
    assert torch.allclose(own, 1 - changed) or torch.allclose(own, torch.ones(4))
    mixed, soft = Mixup(num_classes=6, alpha=0.4, seed=1)(PATCHES, labels)
    assert mixed.shape == PATCHES.shape and torch.allclose(soft.sum(1), torch.ones(4))
    skipped, soft = CutMix(num_classes=6, p=0.0, seed=0)(SIGNAL, labels)
    assert skipped is SIGNAL and torch.equal(soft, torch.nn.functional.one_hot(labels, 6).float())


def test_compose():
    pipeline = Compose([TimeShift(4, seed=0), GaussianNoise(0.0, seed=0)])
    assert pipeline(SIGNAL).shape == SIGNAL.shape
