import torch

from pfdtrain.physics import FAULT_CLASSES, SKF_6205, expected_frequencies, signature_table


def test_bearing_frequencies_at_nominal_speed():
    f = SKF_6205.fault_frequencies(3600.0)
    assert abs(f["FTF"] - 23.8986) < 1e-4 and abs(f["BPFO"] - 215.0871) < 1e-4
    assert abs(f["BPFI"] - 324.9129) < 1e-4 and abs(f["BSF"] - 141.4049) < 1e-4
    rpm = torch.tensor([1800.0, 3600.0])
    assert torch.allclose(SKF_6205.fault_frequencies(rpm)["BPFO"], torch.tensor([107.5435, 215.0871]))


def test_legacy_classes_keep_their_lines():
    assert expected_frequencies(1, 3600.0) == [60.0, 120.0, 180.0]
    assert expected_frequencies(3, 3600.0) == [60.0, 120.0, 180.0, 18.0, 30.0]
    assert [round(f, 2) for f in expected_frequencies(6, 3600.0)] == [215.09, 430.17, 645.26, 324.91, 649.83]
    assert expected_frequencies(0, 1000.0) == [500.0, 1000.0, 1500.0]  # fixed lines


def test_combined_classes_interleave_their_components():
    assert FAULT_CLASSES[8:] == ("combined_misalign_imbalance", "combined_wear_lube", "combined_cavit_jeu")
    assert expected_frequencies(8, 3600.0, 10) == [60.0, 120.0, 180.0]  # 1X shared, kept once
    wear_lube = expected_frequencies(9, 3600.0, 4)
    assert [round(f, 2) for f in wear_lube] == [215.09, 2000.0, 430.17, 3000.0]
    assert expected_frequencies(10, 3600.0, 4) == [2000.0, 60.0, 3000.0, 120.0]


def test_table_width_and_validity():
    table = signature_table(5)
    assert table.fixed.shape == (11, 5)
    assert table.count.tolist() == [3, 3, 1, 5, 3, 3, 5, 3, 3, 5, 5]
