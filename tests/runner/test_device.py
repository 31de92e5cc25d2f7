"""device = "cuda" without a visible GPU is a spec error (exit 2, key and line), not a crash mid-run."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from mininet.runner.cli import main

from test_spec_errors import edit


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible here")
@pytest.mark.parametrize("command", ["validate", "run"])
def test_cuda_without_gpu_is_reported_before_training(tmp_path, command):
    path = tmp_path / "cuda.toml"
    path.write_text(edit('seed = 0\n', 'seed = 0\ndevice = "cuda"\n'))
    result = CliRunner().invoke(main, [command, str(path), *(["--no-save"] if command == "run" else [])])
    assert result.exit_code == 2
    assert f"{path}:3: device: 'cuda' asked for" in result.output
    assert "Traceback" not in result.output
