"""The Trainer: the one training loop."""

from pfdtrain.trainer.trainer import Trainer

__all__ = ["Trainer"]
