"""benchmarks/gpu.sh runs only on a lent GPU machine; here: it parses, and it refuses a missing mode.

(Its `run` mode was tried with DEVICE=cpu EPOCHS=2 REPEATS=1 when it was written; it runs the suite
itself, so CI does not run it.)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.sh"


def test_gpu_script_parses_and_says_how_to_call_it():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "usage: bash benchmarks/gpu.sh fetch|run" in result.stderr
