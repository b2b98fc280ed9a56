"""The v2 place the advice names for each v1 key is where the migration really puts the value."""

from __future__ import annotations

import pytest
import torch

from pfdtrain.checkpoint_readers.v1_keys import key_homes, v1_keys
from pfdtrain.migration.layouts import ROOT
from pfdtrain.migration.upgraders import upgrade
from pfdtrain.migration.v1_layouts import SPECS

#: Values the legacy writers store, one kind per key; the first one a field accepts is used.
SAMPLES = (7, 0.625, {"train_loss": [1.0, 0.5]}, {"state": {}, "param_groups": []}, "a/name", True)


def _value(spec, key):
    if key == spec.weights_key:
        return {"layer.weight": torch.ones(2)}
    spec_field = spec.field_for(key)
    return next(v for v in SAMPLES if spec_field is None or spec_field.accepts(v))


def _read(v2, path):
    for part in path:
        v2 = v2[part]
    return v2


@pytest.mark.parametrize("spec", [s for s in SPECS if s.weights_key != ROOT], ids=lambda s: s.name)
def test_each_key_is_read_back_from_its_advised_place_after_an_upgrade(spec):
    v1 = {key: _value(spec, key) for key in spec.keys}
    v2 = upgrade(v1, spec.name)
    for key, value in v1.items():
        [home] = [h for h in key_homes()[key] if spec.name in h.layouts]
        got = _read(v2, home.v2_path)
        if key == spec.weights_key:
            assert torch.equal(got["layer.weight"], value["layer.weight"]), key
        else:
            assert got == (value + home.offset if home.offset else value), (spec.name, key)


def test_the_keys_and_conversions_a_reader_is_told():
    homes = key_homes()
    assert {k: [h.dotted for h in homes[k]] for k in ("model_state_dict", "epoch", "best_val_acc", "args",
                                                       "best_metric", "state_dict")} == {
        "model_state_dict": ["model.state_dict"], "epoch": ["training.epoch"],
        "best_val_acc": ["training.best_metric"], "args": ["config.args"], "best_metric": ["extra.best_metric"],
        "state_dict": ["model.state_dict"]}
    assert homes["epoch"][0].offset == 1 and homes["history"][0].offset == 0
    assert not v1_keys() & {"model", "training", "optimizer", "extra", "format", "config"}  # v2's own top level
