import math

import torch
import torch.nn.functional as F

from pfdtrain.losses import SupConLoss


def _reference(features, labels, t, bt):
    f = features.tolist()
    n = len(f)
    sim = [[sum(a * b for a, b in zip(f[i], f[j], strict=True)) / t for j in range(n)] for i in range(n)]
    total = 0.0
    for i in range(n):
        denom = sum(math.exp(sim[i][j]) for j in range(n) if j != i)
        pos = [j for j in range(n) if j != i and labels[j] == labels[i]]
        if pos:  # an anchor without positives contributes 0 but counts in the mean
            total += -(t / bt) * sum(sim[i][j] - math.log(denom) for j in pos) / len(pos)
    return total / n


def test_matches_naive_reference_including_anchor_without_positive():
    features = F.normalize(torch.randn(6, 5, generator=torch.Generator().manual_seed(3)), dim=1)
    labels = [0, 0, 1, 1, 1, 2]
    got = SupConLoss(0.5, 0.5)(features, torch.tensor(labels))
    assert abs(got.item() - _reference(features, labels, 0.5, 0.5)) < 1e-5
