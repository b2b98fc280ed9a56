"""Signal and class constants of the bearing-fault data set (legacy ``utils/constants.py``)."""

from __future__ import annotations

#: Sampling rate of every recording, Hz.
SAMPLING_RATE = 20480
#: Recording length: 5 s at 20480 Hz.
SIGNAL_DURATION = 5.0
SIGNAL_LENGTH = 102400
#: Nominal shaft speed, rpm (60 Hz).
NOMINAL_RPM = 3600.0
NUM_CLASSES = 11

#: Class index -> name, in the order used by the physics signatures and the models' outputs.
FAULT_CLASSES: tuple[str, ...] = (
    "healthy",
    "misalignment",
    "imbalance",
    "looseness",
    "lubrication",
    "cavitation",
    "wear",
    "oil_whirl",
    "combined_misalign_imbalance",
    "combined_wear_lube",
    "combined_cavit_jeu",
)
