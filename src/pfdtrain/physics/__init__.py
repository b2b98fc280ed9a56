"""Physics of the bearing test rig: geometry, fault frequencies, signatures and physics losses."""

from pfdtrain.physics.bearing import SKF_6205, BearingGeometry, sommerfeld_number
from pfdtrain.physics.constants import (
    FAULT_CLASSES,
    NOMINAL_RPM,
    NUM_CLASSES,
    SAMPLING_RATE,
    SIGNAL_DURATION,
    SIGNAL_LENGTH,
)
from pfdtrain.physics.constraint import PhysicalConstraintLoss
from pfdtrain.physics.frequency import FrequencyConsistencyLoss
from pfdtrain.physics.signatures import (
    FAULT_SIGNATURES,
    NOISE_LEVELS,
    FaultSignature,
    SignatureTable,
    expected_frequencies,
    signature_table,
)
from pfdtrain.physics.sommerfeld import SommerfeldConsistencyLoss, expected_severity
from pfdtrain.physics.spectral import SpectralDistanceLoss
from pfdtrain.physics.temporal import TemporalSmoothnessLoss

__all__ = [
    "FAULT_CLASSES",
    "FAULT_SIGNATURES",
    "NOISE_LEVELS",
    "NOMINAL_RPM",
    "NUM_CLASSES",
    "SAMPLING_RATE",
    "SIGNAL_DURATION",
    "SIGNAL_LENGTH",
    "SKF_6205",
    "BearingGeometry",
    "FaultSignature",
    "FrequencyConsistencyLoss",
    "PhysicalConstraintLoss",
    "SignatureTable",
    "SommerfeldConsistencyLoss",
    "SpectralDistanceLoss",
    "TemporalSmoothnessLoss",
    "expected_frequencies",
    "expected_severity",
    "signature_table",
    "sommerfeld_number",
]
