"""Sample data bundled with pfdtrain (generated, so nothing is downloaded)."""

from pfdtrain.data.synthetic import FAULT_CLASSES, make_vibration_dataset

__all__ = ["FAULT_CLASSES", "make_vibration_dataset"]
