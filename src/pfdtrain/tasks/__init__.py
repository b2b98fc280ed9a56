"""Tasks: what a batch means and what the loss is."""

from pfdtrain.tasks.base import StepOutput, Task, move_to_device
from pfdtrain.tasks.classification import ClassificationTask

__all__ = ["ClassificationTask", "StepOutput", "Task", "move_to_device"]
