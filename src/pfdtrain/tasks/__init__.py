"""Tasks: what a batch means and what the loss is."""

from pfdtrain.tasks.base import StepOutput, Task, move_to_device
from pfdtrain.tasks.classification import ClassificationTask
from pfdtrain.tasks.distillation import DistillationTask
from pfdtrain.tasks.physics import LambdaSchedule, PhysicsInformedTask

__all__ = [
    "ClassificationTask", "DistillationTask", "LambdaSchedule", "PhysicsInformedTask", "StepOutput", "Task",
    "move_to_device",
]
