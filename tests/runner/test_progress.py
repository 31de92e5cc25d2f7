"""Issue 6: a progress bar on a terminal (a real pseudo-terminal), nothing otherwise; --verbose lines."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mininet.runner.cli.progress import Progress

from results_helpers import invoke, write_spec

MININET = [sys.executable, "-m", "mininet"]
ROOT = Path(__file__).resolve().parents[2]


def _run_in_terminal(args: list[str], cwd: Path) -> str:
    """Run with stdin, stdout and stderr on a pseudo-terminal; everything it wrote there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(MININET + args, stdin=follower, stdout=follower, stderr=follower, cwd=cwd,
                            env={**os.environ, "COLUMNS": "120"})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    return write_spec(tmp_path_factory.mktemp("progress"), repetitions=2, epochs=4)


def test_bar_on_a_terminal(spec):
    out = _run_in_terminal(["compare", str(spec), "--no-save"], spec.parent)
    assert "tiny mininet" in out and "tiny torch" in out  # the label names spec and backend
    assert "[####" in out and "16/16" in out and "100%" in out  # 2 backends x 2 repetitions x 4 epochs
    assert out.count("\r") >= 4  # redrawn in place
    assert "| tiny   | mininet" in out  # and the tables still come


def test_no_bar_when_not_a_terminal(spec):
    result = invoke("compare", spec, "--no-save")  # CliRunner's streams are not terminals
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout.startswith("| spec") and "| tiny   | mininet" in result.stdout


def test_verbose_prints_one_line_per_epoch(spec):
    result = invoke("run", spec, "--no-save", "--verbose", "--executor", "sequential")
    lines = result.stderr.splitlines()
    assert len(lines) == 2 * 4  # two repetitions one by one, four epochs each
    assert lines[0].startswith("tiny  mininet  repetition 0  epoch 1/4")
    assert lines[-1].startswith("tiny  mininet  repetition 1  epoch 4/4")
    vectorized = invoke("run", spec, "--no-save", "--verbose").stderr.splitlines()
    assert [line.split("  ")[2:4] for line in vectorized] == [["repetitions 0-1", f"epoch {e}/4"] for e in range(1, 5)]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_counts_repetition_epochs():
    stream = FakeTerminal()
    with Progress(total=6, stream=stream) as progress:
        callback = progress.callback("s")
        callback("mininet", [0, 1], 0, 3, torch.zeros(2, 4))  # a vectorized epoch of two repetitions
        callback("torch", [0], 0, 3, torch.zeros(1, 4))
        assert progress._bar.pos == 3
    assert "s torch" in stream.getvalue()
    quiet = FakeTerminal()
    with Progress(total=6, stream=quiet, quiet=True) as progress:
        assert progress.callback("s") is None
    assert quiet.getvalue() == ""
    assert Progress(total=6, stream=io.StringIO()).__enter__().callback("s") is None


def test_verbose_lines_show_the_epoch_metrics_mean_over_repetitions():
    stream = io.StringIO()
    with Progress(total=6, stream=stream, verbose=True) as progress:
        metrics = torch.tensor([[0.5, 90.0, 0.7, 80.0], [0.25, 100.0, 0.5, 90.0]])
        progress.callback("s")("mininet", [0, 1], 1, 3, metrics)
    line = stream.getvalue()
    assert line.startswith("s  mininet  repetitions 0-1  epoch 2/3  ")
    assert "train_loss 0.375  train_acc 95  test_loss 0.6  test_acc 85" in line
