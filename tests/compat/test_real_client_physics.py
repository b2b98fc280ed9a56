"""``training.physics_loss_functions.FrequencyConsistencyLoss`` to the last float32 bit.

``experiments/pinn_ablation.py`` prints ``Phys: {:.4f}`` and ``PINNTrainer.train`` returns the
physics history; a value one float32 ulp away changes a printed digit now and then. Expected
values were recorded by running the legacy code (torch 2.13, CPU). The signal's spectrum has
twelve tones at bin centres with amplitudes far apart, so the peaks (and with them the loss,
which depends on peak positions only) are the same on every machine.
"""

import numpy as np
import pytest
import torch

from pfdtrain.compat._legacy_frequency import legacy_expected_lines
from pfdtrain.compat.physics_loss_functions import FrequencyConsistencyLoss, PhysicalConstraintLoss

TONES_HZ = (60, 120, 180, 210, 330, 430, 650, 1000, 1500, 2000, 3000, 4000)
CLASSES = (6, 6, 3, 1, 7, 0, 2, 5)


def _signal() -> torch.Tensor:
    t = torch.arange(2048, dtype=torch.float64) / 20480
    tones = sum((12 - i) * torch.sin(2 * np.pi * f * t) for i, f in enumerate(TONES_HZ))
    return tones.float().repeat(len(CLASSES), 1).unsqueeze(1)


def _predictions() -> torch.Tensor:
    logits = torch.full((len(CLASSES), 11), -5.0)
    logits[torch.arange(len(CLASSES)), torch.tensor(CLASSES)] = 5.0
    return logits


def test_loss_matches_the_recorded_legacy_float32_value():
    value = FrequencyConsistencyLoss()(_signal(), _predictions())
    assert value.dtype == torch.float32 and not value.requires_grad
    assert value.item() == 0.18241332471370697  # legacy; the batched core sum gives 0.18241333961486816


def test_loss_with_per_sample_rpm_uses_the_first_value_like_legacy():
    metadata = {"rpm": torch.tensor([1797.0, 3000.0] * 4)}
    assert FrequencyConsistencyLoss()(_signal(), _predictions(), metadata).item() == 0.5672431588172913


def test_physical_constraint_total_carries_the_same_bits():
    total, terms = PhysicalConstraintLoss(1.0, 0.0, 0.0)(_signal(), _predictions())
    assert terms["freq_consistency"] == terms["total_physics"] == 0.18241332471370697
    assert total.item() == 0.18241332471370697


def test_combined_classes_still_fail_like_legacy():
    logits = _predictions()
    logits[3, 9] = 50.0
    with pytest.raises(KeyError, match="combined_wear_lube"):
        FrequencyConsistencyLoss()(_signal(), logits)


def test_the_first_sample_with_a_combined_class_names_the_error_like_legacy():
    logits = _predictions()
    logits[5, 8] = 50.0
    logits[2, 10] = 50.0  # earlier in the batch: legacy's per-sample loop met this one first
    with pytest.raises(KeyError, match="combined_cavit_jeu"):
        FrequencyConsistencyLoss()(_signal(), logits)


@pytest.mark.parametrize(
    ("fault_class", "rpm", "dtype", "values"),
    [
        (0, 3600.0, np.int64, [500, 1000, 1500]),
        (3, 3600.0, np.float64, [60.0, 120.0, 180.0, 18.0, 30.0]),
        (6, 3600.0, np.float64, [215.0870901639344, 430.1741803278688, 645.2612704918032, 324.9129098360656,
                                 649.8258196721312]),
        (6, 1797.0, np.float64, [107.36430584016392, 214.72861168032784, 322.09291752049177, 162.1856941598361,
                                 324.3713883196722]),
        (1, np.float32(1797.0), np.float32, [29.950000762939453, 59.900001525878906, 89.85000610351562]),
        (6, np.float32(1797.0), np.float64, [107.36431313342734, 214.7286262668547, 322.09293940028203,
                                             162.18570517711953, 324.37141035423906]),
        (7, 2500, np.float64, [17.5, 17.916666666666664, 19.999999999999996]),
    ],
)
def test_expected_lines_have_legacy_values_and_dtypes(fault_class, rpm, dtype, values):
    lines = legacy_expected_lines(fault_class, rpm, top_k=5)
    assert lines.dtype == dtype
    assert [float(v) for v in lines] == values


def test_expected_lines_of_combined_classes_raise_key_error():
    with pytest.raises(KeyError, match="combined_misalign_imbalance"):
        legacy_expected_lines(8, 3600.0, top_k=5)
