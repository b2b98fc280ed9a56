"""Losses: focal, label smoothing, SupCon, distillation, physics-informed weighting, class weights."""

from pfdtrain.losses.class_weights import compute_class_weights
from pfdtrain.losses.distillation import DistillationLoss, distillation_loss
from pfdtrain.losses.factory import LOSSES, create_loss
from pfdtrain.losses.focal import FocalLoss, focal_loss
from pfdtrain.losses.label_smoothing import (
    LabelSmoothingCrossEntropy,
    check_smoothing,
    label_smoothing_cross_entropy,
)
from pfdtrain.losses.physics_informed import PhysicsInformedLoss
from pfdtrain.losses.supcon import SupConLoss, supcon_loss

__all__ = [
    "LOSSES",
    "DistillationLoss",
    "FocalLoss",
    "LabelSmoothingCrossEntropy",
    "PhysicsInformedLoss",
    "SupConLoss",
    "check_smoothing",
    "compute_class_weights",
    "create_loss",
    "distillation_loss",
    "focal_loss",
    "label_smoothing_cross_entropy",
    "supcon_loss",
]
