"""Stand-ins for the two legacy ``models.physics`` classes that ``training.physics_loss_functions``
imported at module level and kept on its losses (``signature_db``, ``bearing_dynamics``).

They live outside the legacy training package, so only what the legacy losses and their callers
used is served, computed by :mod:`pfdtrain.physics`: the bearing geometry (``params``), the
characteristic frequencies, the Sommerfeld number, and each fault class's expected frequencies.
Their other legacy methods (Reynolds number, band energies, consistency checks, spectra) are not
provided (``docs/compatibility.md``); new code uses :mod:`pfdtrain.physics` directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pfdtrain.physics.bearing import SKF_6205, sommerfeld_number
from pfdtrain.physics.constants import FAULT_CLASSES
from pfdtrain.physics.signatures import expected_frequencies

__all__ = ["BearingDynamics", "FaultSignatureDatabase"]

#: The legacy default geometry (SKF 6205), in the legacy units: mm, degrees, micrometres.
_DEFAULT_PARAMS = {"n_balls": 9, "ball_diameter": 7.94, "pitch_diameter": 39.04, "contact_angle": 0.0,
                   "shaft_radius": 15.0, "radial_clearance": 20.0}


class BearingDynamics:
    """Bearing fault frequencies and the Sommerfeld number for the legacy default bearing."""

    def __init__(self, bearing_params: dict[str, float] | None = None) -> None:
        self.params = bearing_params if bearing_params is not None else dict(_DEFAULT_PARAMS)

    def characteristic_frequencies(self, rpm: Any, return_torch: bool = False) -> dict[str, Any]:
        """``FTF``, ``BPFO``, ``BPFI``, ``BSF`` and ``shaft_freq`` (Hz) at ``rpm``."""
        if not isinstance(rpm, torch.Tensor):
            rpm = np.asarray(rpm, dtype=np.float64) if isinstance(rpm, (list, tuple)) else rpm
        f = SKF_6205.fault_frequencies(rpm)
        out = {"FTF": f["FTF"], "BPFO": f["BPFO"], "BPFI": f["BPFI"], "BSF": f["BSF"], "shaft_freq": f["shaft"]}
        if return_torch and not isinstance(rpm, torch.Tensor):
            out = {k: torch.tensor(v, dtype=torch.float32) for k, v in out.items()}
        return out

    def sommerfeld_number(self, load: Any = 500.0, speed: Any = 3600.0, viscosity: Any = 0.03) -> Any:
        """``S = mu * N / P * (R / C)^2`` (load in N, speed in rpm, viscosity in Pa*s)."""
        return sommerfeld_number(load, speed, viscosity)


class FaultSignatureDatabase:
    """Expected frequencies of the 8 single-fault classes (combined classes 8-10: ``KeyError``)."""

    def __init__(self) -> None:
        self.bearing_dynamics = BearingDynamics()

    def get_expected_frequencies(self, fault_class: int | str, rpm: float = 3600.0, top_k: int = 5) -> np.ndarray:
        index = FAULT_CLASSES.index(fault_class) if isinstance(fault_class, str) else int(fault_class)
        if index >= 8:
            raise KeyError(FAULT_CLASSES[index])
        return np.asarray(expected_frequencies(index, float(rpm), top_k))
