"""Distributed data parallel on PyTorch's own engine, launched with ``torchrun``.

One line: ``torchrun --nproc_per_node 4 train.py`` (multi-node: torchrun's ``--nnodes`` and
``--rdzv-endpoint``). pfdtrain spawns no processes and opens no sockets of its own: torchrun sets
``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``, this plugin initialises the process
group from them (or uses one the script initialised), wraps the model in
``DistributedDataParallel``, shards the data with a ``DistributedSampler`` reshuffled every
epoch, and all-reduces metric sums so every process logs the global means. Only rank 0 writes
checkpoints, logs and progress; checkpoints hold the unwrapped model (no ``module.`` prefix).
"""

from __future__ import annotations

import atexit
import os
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from pfdtrain.errors import ConfigurationError
from pfdtrain.plugins.base import DistributedPlugin

if TYPE_CHECKING:  # pragma: no cover
    from pfdtrain.trainer.trainer import Trainer

_TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


class DDP(DistributedPlugin):
    """Data parallel training over every process of a torchrun launch."""

    def __init__(self, backend: str | None = None, find_unused_parameters: bool = False,
                 shuffle_seed: int = 0, **ddp_kwargs: Any) -> None:
        self.backend = backend
        self.find_unused_parameters = find_unused_parameters
        self.shuffle_seed = shuffle_seed
        self.ddp_kwargs = ddp_kwargs
        self._initialised_here = False
        self._samplers: list[DistributedSampler[Any]] = []

    def setup(self, trainer: Trainer) -> None:
        if not dist.is_available():
            raise ConfigurationError("DDP needs torch.distributed, which this torch build lacks.")
        if not dist.is_initialized():
            missing = [v for v in _TORCHRUN_VARS if v not in os.environ]
            if missing:
                raise ConfigurationError(
                    "DDP found no initialised process group and no torchrun environment (missing "
                    f"{', '.join(missing)}). Launch with: torchrun --nproc_per_node N your_script.py, "
                    "or call torch.distributed.init_process_group() before Trainer.fit."
                )
            backend = self.backend or ("nccl" if trainer.device.type == "cuda" else "gloo")
            if trainer.device.type == "cuda":
                local = int(os.environ["LOCAL_RANK"])
                torch.cuda.set_device(local)
                trainer.device = torch.device("cuda", local)
            dist.init_process_group(backend=backend)
            self._initialised_here = True
            atexit.register(_destroy_process_group)
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        if not isinstance(trainer.model, DistributedDataParallel):
            trainer.model.to(trainer.device)
            device_ids = [trainer.device.index] if trainer.device.type == "cuda" else None
            trainer.model = DistributedDataParallel(
                trainer.model, device_ids=device_ids,
                find_unused_parameters=self.find_unused_parameters, **self.ddp_kwargs,
            )

    def unwrap(self, model: nn.Module) -> nn.Module:
        return model.module if isinstance(model, DistributedDataParallel) else model

    def prepare_loader(self, loader: Any, shuffle: bool) -> Any:
        if not isinstance(loader, DataLoader) or isinstance(loader.sampler, DistributedSampler):
            return loader
        from torch.utils.data import RandomSampler

        shuffle = shuffle and isinstance(loader.sampler, RandomSampler)
        sampler: DistributedSampler[Any] = DistributedSampler(
            loader.dataset, num_replicas=self.world_size, rank=self.rank, shuffle=shuffle,
            seed=self.shuffle_seed, drop_last=False,
        )
        self._samplers.append(sampler)
        return DataLoader(
            loader.dataset, batch_size=loader.batch_size, sampler=sampler, num_workers=loader.num_workers,
            collate_fn=loader.collate_fn, pin_memory=loader.pin_memory, drop_last=loader.drop_last,
            timeout=loader.timeout, worker_init_fn=loader.worker_init_fn,
            persistent_workers=loader.persistent_workers if loader.num_workers > 0 else False,
        )

    def on_train_epoch_start(self, trainer: Trainer) -> None:
        for sampler in self._samplers:
            sampler.set_epoch(trainer.current_epoch)  # a new shuffle every epoch, the same on every rank

    def reduce_sums(self, tensor: torch.Tensor) -> torch.Tensor:
        reduced = tensor.clone()
        dist.all_reduce(reduced, op=dist.ReduceOp.SUM)
        return reduced

    def teardown(self, trainer: Trainer) -> None:
        """Unwrap the model so the Trainer can be used again; the process group lives on.

        A group this plugin created is destroyed at interpreter exit: re-creating one in the same
        torchrun job is unreliable, and leaving gloo's threads running into shutdown aborts the
        process ("terminate called without an active exception").
        """
        self._samplers = []
        trainer.model = self.unwrap(trainer.model)


def _destroy_process_group() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
