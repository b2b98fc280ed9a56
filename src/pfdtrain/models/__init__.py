"""Small reference models (for the demo and tests); research models stay in the user's code."""

from pfdtrain.models.cnn1d import SmallCNN1D

__all__ = ["SmallCNN1D"]
