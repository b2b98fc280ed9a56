import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_core.py"


def test_core_example_trains_and_resumes(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLE), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "resumed from" in out.stdout and "epochs trained: 4" in out.stdout
    assert (tmp_path / "checkpoints" / "last.pt").is_file()
