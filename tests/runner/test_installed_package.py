"""The built wheel, installed into a fresh venv outside the checkout, works from any folder: the
built-in specs are in it (``mininet compare report/ce_sgd``, ``mininet copy``), with no warning.

The venv gets the wheel alone (``--no-deps``); torch, pydantic, ... come from this interpreter's
site-packages through a ``.pth`` line, so the test needs no download and no second torch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the fresh venv's bin folder, an empty folder outside the checkout to run in)."""
    tmp = tmp_path_factory.mktemp("wheel")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                "-w", tmp / "dist", ROOT, cwd=tmp)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("mininet_backprop-*.whl")
    made = run(sys.executable, "-m", "venv", tmp / "venv", cwd=tmp)
    assert made.returncode == 0, made.stderr
    bin_dir = tmp / "venv" / "bin"
    site = Path(run(bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=tmp).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = run(bin_dir / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp)
    assert pip.returncode == 0, pip.stderr
    work = tmp / "elsewhere"
    work.mkdir()
    return bin_dir, work


def test_the_wheel_runs_the_report_from_another_folder(installed):
    bin_dir, work = installed
    where = run(bin_dir / "python", "-c", "import mininet, mininet.runner; print(mininet.__file__)", cwd=work)
    assert where.returncode == 0 and str(ROOT) not in where.stdout, where  # the installed copy, not ours
    result = run(bin_dir / "mininet", "compare", "report/ce_sgd", "--set", "train.epochs=2", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "| report-ce-sgd" in result.stdout and "equivalent" in result.stdout
    assert "warn" not in result.stderr.lower(), result.stderr
    assert (work / "runs").is_dir()


def test_the_wheel_copies_a_builtin_spec_with_its_data(installed):
    bin_dir, work = installed
    result = run(bin_dir / "mininet", "copy", "examples/csv_seeds", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "warn" not in result.stderr.lower(), result.stderr
    assert (work / "csv_seeds.toml").read_text() == (ROOT / "specs/examples/csv_seeds.toml").read_text()
    assert (work / "data/seeds.csv").is_file()
    again = run(bin_dir / "mininet", "validate", "csv_seeds.toml", cwd=work)
    assert again.returncode == 0 and "ok" in again.stdout, again.stderr
