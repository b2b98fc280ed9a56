"""DDP via torchrun on CPU (gloo): same result as one process with the same global batch."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from pfd_testing import make_data, make_model
from pfdtrain import Trainer
from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins import DDP

WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    launcher_vars = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
    env = {k: v for k, v in os.environ.items() if k not in launcher_vars}
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(WORKER), str(out)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = [torch.load(out / f"rank{r}.result", weights_only=True) for r in (0, 1)]
    return out, results


@pytest.mark.slow
def test_two_processes_match_one_process_with_the_same_global_batch(ddp_run):
    _, results = ddp_run
    x, y = make_data(48)
    model = make_model(dropout=0.0)
    single = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.3), max_epochs=2, enable_progress_bar=False)
    single.fit(DataLoader(TensorDataset(x, y), batch_size=8), DataLoader(TensorDataset(x, y), batch_size=8))
    for result in results:
        for k, v in model.state_dict().items():
            assert (result["params"][k] - v).abs().max().item() <= 1e-5, k
    # metrics are all-reduced: every rank logs the global means, which equal the single process'
    assert results[0]["history"] == results[1]["history"]
    for key in ("train_loss", "val_loss", "val_acc"):
        assert results[0]["history"][key] == pytest.approx(single.history[key], rel=1e-5, abs=1e-6)


@pytest.mark.slow
def test_sampler_reshuffles_every_epoch_and_ranks_split_the_data(ddp_run):
    _, results = ddp_run
    r0, r1 = results[0]["seen"], results[1]["seen"]
    for epoch in (0, 1):
        assert sorted(r0[epoch] + r1[epoch]) == list(range(48))
    assert r0[0] != r0[1]


@pytest.mark.slow
def test_only_rank_zero_writes_and_the_checkpoint_loads_in_one_process(ddp_run):
    out, results = ddp_run
    assert [r["is_global_zero"] for r in results] == [True, False]
    raw = torch.load(out / "ddp.pt", weights_only=True)
    assert not any(k.startswith("module.") for k in raw["model"]["state_dict"])
    model = make_model(dropout=0.0)
    model.load_state_dict(raw["model"]["state_dict"])
    assert all(torch.equal(v, results[0]["params"][k]) for k, v in model.state_dict().items())


def test_ddp_without_torchrun_or_process_group_fails_before_training(monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    model = make_model()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), plugins=[DDP()], max_epochs=1,
                      enable_progress_bar=False)
    with pytest.raises(ConfigurationError, match="torchrun --nproc_per_node"):
        trainer.fit(DataLoader(TensorDataset(*make_data(8)), batch_size=4))
