import os
import subprocess
import sys

import pfdtrain.callbacks as callbacks
from pfdtrain.callbacks.base import Callback


def test_every_exported_callback_resolves_to_a_callback_class():
    names = set(callbacks.__all__) - {"HOOKS", "Callback", "CallbackList"}
    assert {"EarlyStopping", "ModelCheckpoint", "LearningRateMonitor", "CSVLogger", "JSONLogger", "ProgressBar",
            "TimeLimit", "TensorBoardLogger", "MLflowLogger"} <= names
    for name in names:
        cls = getattr(callbacks, name)
        assert issubclass(cls, Callback) and cls.__name__ == name


def test_importing_the_package_loads_no_callback_module_and_no_torch():
    code = (
        "import sys, pfdtrain.callbacks; "
        "print(sorted(m for m in sys.modules if m.startswith(('pfdtrain.callbacks.', 'torch', 'rich'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout
    assert out.strip() == "['pfdtrain.callbacks.base']"
