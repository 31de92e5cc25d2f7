"""A user's layer in a spec through a plugin (examples/softsign_plugin): a hand-written mininet
Softsign against torch.nn.Softsign, trained on both backends and checked; bad plugins are spec errors."""

from __future__ import annotations

from pathlib import Path

import torch
from click.testing import CliRunner

from mininet.runner.cli import main
from mininet.runner.spec.load import load_spec
from mininet.runner.spec.plugins import load_plugin
from mininet.runner.train import run_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples/softsign_plugin"
SPEC = EXAMPLE / "spirals_softsign.toml"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_plugin_layer_trains_alike_on_both_backends():
    spec, base = load_spec(SPEC, ["dtype=\"float64\"", "train.epochs=3", "repetitions=2"])
    assert spec.model.layers[1].type == "softsign"
    mininet_run, torch_run = run_spec(spec, ("mininet", "torch"), "auto", base)
    assert mininet_run.executor == "vectorized"
    torch.testing.assert_close(mininet_run.metrics, torch_run.metrics, rtol=1e-9, atol=0)


def test_check_passes_and_names_a_broken_backward(monkeypatch):
    passed = invoke("check", str(SPEC))
    assert passed.exit_code == 0, passed.output
    assert "parity check passed" in passed.output
    plugin = load_plugin(EXAMPLE / "softsign.py")
    monkeypatch.setattr(plugin.Softsign, "backward", lambda self, g: g / self._denom)  # the ** 2 dropped
    failed = invoke("check", str(SPEC))
    assert failed.exit_code == 1
    rows = {line.split("|")[1].strip(): line for line in failed.output.splitlines() if line.startswith("| layer")}
    assert "MISMATCH" in rows["layer 3 (Softsign) grad input"]  # where backward goes wrong first
    assert "ok" in rows["layer 4 (Linear) grad input"]


def test_the_plugin_type_is_listed_and_rendered_with_its_path(tmp_path):
    assert invoke("validate", str(SPEC)).exit_code == 0
    listed = invoke("list", "layer").output
    assert "softsign" in listed and "a plugin's layer" in listed
    out = tmp_path / "elsewhere" / "rendered.toml"
    assert invoke("render", str(SPEC), "-o", str(out)).exit_code == 0
    rendered = invoke("validate", str(out))
    assert rendered.exit_code == 0, rendered.output  # the plugin path was rewritten to start there


def test_a_plugin_that_fails_is_a_spec_error_with_key_and_line(tmp_path):
    (tmp_path / "broken.py").write_text("import torch\n\nraise RuntimeError('my mistake')\n")
    spec = SPEC.read_text().replace('plugins = ["softsign.py"]', 'plugins = ["broken.py", "missing.py"]')
    (tmp_path / "spec.toml").write_text(spec)
    result = invoke("validate", str(tmp_path / "spec.toml"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "spec.toml:4: plugins[0]: plugin" in result.output and "raised RuntimeError: my mistake (line 3)" in result.output
    assert "plugins[1]: plugin" in result.output and "missing.py: file not found" in result.output
