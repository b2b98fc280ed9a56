"""A small 1-D CNN for vibration signals, and a variant that also sees the shaft speed."""

from torch import nn

from bearing.data import NUM_CLASSES


class SmallCNN1D(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES, channels=8):
        super().__init__()
        self.num_classes, self.channels = num_classes, channels
        self.features = nn.Sequential(
            nn.Conv1d(1, channels, kernel_size=7, padding=3), nn.ReLU(), nn.MaxPool1d(4),
            nn.Conv1d(channels, 2 * channels, kernel_size=5, padding=2), nn.ReLU(),
            nn.AdaptiveAvgPool1d(1), nn.Flatten(),
        )
        self.classifier = nn.Linear(2 * channels, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x))

    def get_config(self):
        return {"model_type": "SmallCNN1D", "num_classes": self.num_classes, "channels": self.channels}


class SpeedAwareCNN1D(SmallCNN1D):
    """``forward(x, metadata)``: adds a learned function of the normalised rpm to the logits."""

    def __init__(self, num_classes=NUM_CLASSES, channels=8):
        super().__init__(num_classes, channels)
        self.rpm_head = nn.Linear(1, num_classes)

    def forward(self, x, metadata=None):
        logits = super().forward(x)
        if metadata is not None and "rpm" in metadata:
            rpm = metadata["rpm"].to(logits.dtype).reshape(-1, 1) / 3600.0
            logits = logits + self.rpm_head(rpm)
        return logits
