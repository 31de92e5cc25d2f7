"""Issue 3: `mininet check` passes on every shipped spec and names a deliberately broken layer."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import mininet
from mininet.runner.cli import main

from helpers import ROOT, SPEC_FILES

PLAIN_SPECS = [p for p in SPEC_FILES if "sweep" not in p.read_text()]


@pytest.mark.parametrize("path", PLAIN_SPECS, ids=lambda p: p.stem)
def test_check_passes_on_shipped_spec(path):
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert "parity check passed" in result.output


def test_check_fails_and_names_layer_when_backward_is_broken(monkeypatch):
    original = mininet.ReLU.backward

    def broken(self, grad_output):  # forgets the mask: the derivative of the identity, not ReLU
        original(self, grad_output)
        return grad_output

    monkeypatch.setattr(mininet.ReLU, "backward", broken)
    result = CliRunner().invoke(main, ["check", str(ROOT / "specs/report/ce_momentum.toml")])
    assert result.exit_code == 1
    assert "layer 5 (ReLU) grad input" in result.output
    assert "MISMATCH" in result.output


def test_check_fails_when_linear_weight_gradient_is_scaled(monkeypatch):
    original = mininet.Linear.backward

    def scaled(self, grad_output):
        grad_input = original(self, grad_output)
        if self.out_features == 2:  # the last layer only
            self.weight.grad.mul_(1.001)
        return grad_input

    monkeypatch.setattr(mininet.Linear, "backward", scaled)
    result = CliRunner().invoke(main, ["check", str(ROOT / "specs/report/mse_sgd.toml")])
    assert result.exit_code == 1
    assert "6.weight grad" in result.output and "MISMATCH" in result.output
    assert "0.weight grad " not in result.output.split("parity check failed")[1]

