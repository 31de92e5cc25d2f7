"""Issue 4: `mininet render` writes the fully resolved spec as TOML that validates, renders to itself
and trains to the same numbers; the TOML writer reads back exactly."""

from __future__ import annotations

import math
import sys

import pytest
import torch
from click.testing import CliRunner

from mininet.runner.cli import main
from mininet.runner.spec.load import load, load_points
from mininet.runner.spec.render import render
from mininet.runner.spec.toml_writer import dumps
from mininet.runner.train import run_spec

from helpers import ROOT, SPEC_FILES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = pytest.mark.usefixtures("single_thread")
IDS = [str(p.relative_to(ROOT / "specs")) for p in SPEC_FILES]


def render_cli(*args: str) -> str:
    result = CliRunner().invoke(main, ["render", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.stdout


def render_to(spec, out) -> str:
    """`mininet render SPEC -o OUT` (relative data paths rewritten to start at OUT's folder)."""
    render_cli(spec, "-o", out)
    return out.read_text()


def short(path) -> list[str]:
    """--set options for a quick run of a shipped spec: 2 epochs, 2 repetitions, few points."""
    sets = ["train.epochs=2", "repetitions=2"]
    data = tomllib.loads(path.read_text())["data"]["type"]
    if data == "text":
        sets += ["data.max_windows=200"]
    elif data != "csv":
        sets += ["data.n_train=120", "data.n_test=60"]
    return sets


def test_every_shipped_spec_is_covered():
    names = {p.name for p in SPEC_FILES}
    assert {"report.toml", "diverging.toml", "ce_sgd.toml", "mse_momentum.toml"} <= names


@pytest.mark.parametrize("path", SPEC_FILES, ids=IDS)
def test_render_validates_and_is_a_fixed_point(tmp_path, path):
    rendered = tmp_path / path.name
    first = render_to(path, rendered)
    assert first.startswith("# Rendered by `mininet render`")
    result = CliRunner().invoke(main, ["validate", str(rendered)])
    assert result.exit_code == 0, result.output
    assert render_cli(rendered) == first
    assert render_to(rendered, tmp_path / "again.toml") == first
    # every default is written out, and inferred widths unless a sweep changes the model
    doc = tomllib.loads(first)
    assert {"seed", "repetitions", "dtype", "device", "description"} <= set(doc)
    assert "shuffle" in doc["train"] and "init" in doc["model"]
    if not any(k.startswith(("model.", "data.")) for k in doc.get("sweep", {})):
        linear = [layer for layer in doc["model"]["layers"] if layer["type"] == "linear"]
        assert all("in_features" in layer for layer in linear)


@pytest.mark.parametrize("path", SPEC_FILES, ids=IDS)
def test_rendered_spec_trains_to_the_same_numbers(tmp_path, path):
    rendered = tmp_path / path.name
    render_to(path, rendered)
    original, again = load_points(path, short(path)), load_points(rendered, short(path))
    assert [p.label for p in original] == [p.label for p in again]
    for a, b in zip(original, again):
        (ra,) = run_spec(a.spec, ("mininet",), "auto", a.base_dir)
        (rb,) = run_spec(b.spec, ("mininet",), "auto", b.base_dir)
        torch.testing.assert_close(ra.metrics, rb.metrics, rtol=0, atol=0, equal_nan=True)


def test_render_applies_overrides_and_resolves_widths():
    text = render_cli(ROOT / "specs/report/ce_sgd.toml", "--set", "model.layers[0].out_features=64",
                      "--set", "optimizer.lr=0.05")
    doc = tomllib.loads(text)
    widths = [(layer["in_features"], layer["out_features"]) for layer in doc["model"]["layers"]
              if layer["type"] == "linear"]
    assert widths == [(2, 64), (64, 25), (25, 25), (25, 2)]
    assert doc["optimizer"] == {"type": "sgd", "lr": 0.05, "momentum": 0.0, "dampening": 0.0,
                                "weight_decay": 0.0, "nesterov": False}


def test_render_keeps_a_sweep_and_leaves_swept_types_open():
    doc = tomllib.loads(render_cli(ROOT / "specs/report.toml"))
    assert doc["name"] == "report"
    assert doc["sweep"] == {"loss.type": ["cross_entropy", "mse"], "optimizer.momentum": [0.0, 0.2]}
    # the loss table keeps only what the file says: cross_entropy's defaults would be unknown to mse
    assert doc["loss"] == {"type": "cross_entropy"}


def test_render_output_file_rebases_csv_paths(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "points.csv").write_text("a,b,label\n0,1,0\n1,0,1\n1,1,0\n0,0,1\n0.5,0.5,0\n")
    spec = data / "spec.toml"
    spec.write_text('name = "csv"\n[data]\ntype = "csv"\npath = "points.csv"\n[model]\n'
                    'layers = [{ type = "linear", out_features = 2 }]\n[loss]\ntype = "cross_entropy"\n'
                    '[optimizer]\ntype = "sgd"\nlr = 0.1\n[train]\nepochs = 1\nbatch_size = 2\n')
    out = tmp_path / "elsewhere" / "rendered.toml"
    result = CliRunner().invoke(main, ["render", str(spec), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert tomllib.loads(out.read_text())["data"]["path"] == "../data/points.csv"
    assert [p.spec for p in load_points(out)][0].model.layers[0].in_features == 2
    assert render(load(out), out.parent) == out.read_text()


@pytest.mark.parametrize("value", [
    "plain", 'quote " and \\ backslash', "tab\tnewline\nbell\x07", "ünïcödé", "", 0, -3, 2**62, 0.1, 1e-300, -2.5e10,
    math.inf, -math.inf, True, False, [1, 2], [[0.9, 0.99], ["a"]], {"inline": {"x": 1}}, [{"a": 1}, {"b": [2]}],
])
def test_toml_writer_reads_back_exactly(value):
    doc = {"v": value, "table": {"k": value, "needs quotes.here": 1}}
    assert tomllib.loads(dumps(doc)) == doc


def test_toml_writer_nan_and_none():
    back = tomllib.loads(dumps({"x": math.nan, "gone": None, "t": {"y": None, "z": 1}}))
    assert math.isnan(back["x"]) and "gone" not in back and back["t"] == {"z": 1}
