"""Issue 4: --set overrides, sweeps (in the spec and with --sweep), --dry-run, diverging runs and Ctrl-C."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from mininet.runner.cli import main
from mininet.runner.spec.load import load_points
from mininet.runner.spec.overrides import (OverrideError, format_key, grid, parse_key, parse_value, parse_values,
                              point_label, set_path)
from mininet.runner.train import run_spec

from helpers import ROOT

pytestmark = pytest.mark.usefixtures("single_thread")
REPORT = ROOT / "specs/report.toml"
DIVERGING = ROOT / "specs/examples/diverging.toml"
TINY = ("--set", "train.epochs=1", "--set", "repetitions=2", "--set", "data.n_train=60", "--set", "data.n_test=30")


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Run in a fresh folder: whatever a command saves lands there."""
    monkeypatch.chdir(tmp_path)


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


# --------------------------------------------------------------------------- key paths and values
@pytest.mark.parametrize("text,path", [
    ("optimizer.lr", ("optimizer", "lr")),
    ("model.layers[0].out_features", ("model", "layers", 0, "out_features")),
    ("model.layers[12]", ("model", "layers", 12)),
    ('sweep."optimizer.lr"', ("sweep", "optimizer.lr")),
    ("a.b-c.d_e", ("a", "b-c", "d_e")),
])
def test_key_paths_parse_and_format(text, path):
    assert parse_key(text) == path
    assert format_key(path) == text


@pytest.mark.parametrize("bad", ["", "a..b", "a.", "a[x]", "a[1", ".a", "a b", 'a."b'])
def test_bad_key_paths_are_rejected(bad):
    with pytest.raises(OverrideError):
        parse_key(bad)


@pytest.mark.parametrize("text,value", [
    ("64", 64), ("0.05", 0.05), ("1e-3", 1e-3), ("true", True), ('"adam"', "adam"), ("adam", "adam"),
    ("cross_entropy", "cross_entropy"), ("[0.9, 0.99]", [0.9, 0.99]), ("{ weight = \"zeros\" }", {"weight": "zeros"}),
])
def test_values_are_toml_or_bare_words(text, value):
    assert parse_value(text) == value


@pytest.mark.parametrize("text,values", [
    ("0.0,0.2", [0.0, 0.2]), ("cross_entropy,mse", ["cross_entropy", "mse"]), ("[0.9,0.99],[0.8,0.9]", [[0.9, 0.99], [0.8, 0.9]]),
    ("adam, 1", ["adam", 1]), ('"a,b",c', ["a,b", "c"]),
])
def test_sweep_values(text, values):
    assert parse_values(text) == values


def test_set_path_creates_tables_but_not_array_elements():
    doc = {"model": {"layers": [{"type": "relu"}]}}
    set_path(doc, ("scheduler", "type"), "step")
    set_path(doc, ("model", "layers", 0, "type"), "tanh")
    assert doc == {"model": {"layers": [{"type": "tanh"}]}, "scheduler": {"type": "step"}}
    with pytest.raises(OverrideError, match="index \\[1\\] is out of range"):
        set_path(doc, ("model", "layers", 1, "type"), "relu")
    with pytest.raises(OverrideError, match="not a table"):
        set_path(doc, ("scheduler", "type", "x"), 1)
    with pytest.raises(OverrideError, match="has no key 'optimizer'"):
        set_path(doc, ("optimizer", "lr"), 1, create=False)


def test_grid_is_the_cartesian_product_first_key_slowest():
    points = grid({("a",): [1, 2], ("b", 0): ["x", "y", "z"]})
    assert [tuple(p.values()) for p in points] == [(1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z")]
    assert grid({}) == [{}]
    assert point_label("s", points[0]) == "s[a=1,b[0]=x]"
    assert point_label("s", {("d",): "two words"}) == 's[d=_two_words_]'


# --------------------------------------------------------------------------- overrides and sweeps
def test_set_overrides_the_file():
    (point,) = load_points(ROOT / "specs/report/ce_sgd.toml",
                           ["optimizer.lr=0.05", "model.layers[0].out_features=64", "loss.type=mse"])
    assert point.spec.optimizer.lr == 0.05
    assert point.spec.model.layers[0].out_features == 64
    assert point.spec.loss.type == "mse"
    assert point.label == "report-ce-sgd"


def test_report_sweep_points_and_names():
    points = load_points(REPORT)
    assert [p.label for p in points] == [
        "report[loss.type=cross_entropy,optimizer.momentum=0.0]", "report[loss.type=cross_entropy,optimizer.momentum=0.2]",
        "report[loss.type=mse,optimizer.momentum=0.0]", "report[loss.type=mse,optimizer.momentum=0.2]"]
    assert [p.spec.name for p in points] == [p.label for p in points]
    assert all(p.spec.sweep == {} for p in points)


def test_dry_run_lists_points_of_spec_and_command_line_sweeps():
    result = invoke("compare", REPORT, "--sweep", "optimizer.lr=0.1,0.01", "--sweep", "loss.type=mse", "--dry-run")
    assert result.exit_code == 0, result.output
    labels = [ln.split()[1] for ln in result.stdout.splitlines()[2:-1]]
    # --sweep loss.type replaces the spec's entry for that key (and goes last)
    assert labels == ["report[optimizer.momentum=0.0,optimizer.lr=0.1,loss.type=mse]",
                      "report[optimizer.momentum=0.0,optimizer.lr=0.01,loss.type=mse]",
                      "report[optimizer.momentum=0.2,optimizer.lr=0.1,loss.type=mse]",
                      "report[optimizer.momentum=0.2,optimizer.lr=0.01,loss.type=mse]"]
    assert "4 points; nothing trained" in result.stdout
    result = invoke("run", ROOT / "specs/report/ce_sgd.toml", "--dry-run")
    assert result.exit_code == 0 and "report-ce-sgd" in result.stdout and "1 point;" in result.stdout


def test_report_sweep_equals_the_four_report_specs():
    """The report's four configurations as one spec give the same numbers as the four files."""
    short = ["train.epochs=3", "repetitions=2", "data.n_train=200", "data.n_test=100"]
    files = {("cross_entropy", 0.0): "ce_sgd", ("cross_entropy", 0.2): "ce_momentum",
             ("mse", 0.0): "mse_sgd", ("mse", 0.2): "mse_momentum"}
    points = load_points(REPORT, short)
    assert len(points) == 4
    for point in points:
        key = (point.spec.loss.type, point.spec.optimizer.momentum)
        (alone,) = load_points(ROOT / f"specs/report/{files.pop(key)}.toml", short)
        assert point.spec.model_dump(exclude={"name", "description"}) == alone.spec.model_dump(
            exclude={"name", "description"})
        swept = run_spec(point.spec, ("mininet", "torch"), "auto", point.base_dir)
        single = run_spec(alone.spec, ("mininet", "torch"), "auto", alone.base_dir)
        for a, b in zip(swept, single):
            assert a.spec_name == point.label and b.spec_name == alone.spec.name
            assert torch.equal(a.metrics, b.metrics), (point.label, a.backend)
    assert not files


def test_compare_prints_one_row_per_point_and_backend():
    result = invoke("compare", REPORT, *TINY, "--sweep", "optimizer.momentum=0.0,0.5")
    assert result.exit_code == 0, result.output
    rows = [ln for ln in result.stdout.splitlines() if ln.startswith("| report[")]
    summary = [ln.split("|")[1:3] for ln in rows[:8]]
    assert [(s.strip(), b.strip()) for s, b in summary] == [
        (f"report[loss.type={loss},optimizer.momentum={m}]", backend)
        for loss in ("cross_entropy", "mse") for m in ("0.0", "0.5") for backend in ("mininet", "torch")]


# --------------------------------------------------------------------------- faults
def test_diverging_spec_completes_with_its_rows_marked():
    result = invoke("compare", DIVERGING, "--set", "train.epochs=2")
    assert result.exit_code == 0, result.output
    rows = [ln for ln in result.stdout.splitlines() if ln.startswith("| diverging ")][:2]
    assert len(rows) == 2 and all("diverged" in r and "2 diverged" in r for r in rows)
    result = invoke("run", DIVERGING, "--set", "train.epochs=2")
    assert result.exit_code == 1, result.output  # every repetition diverged: a failure during training
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    repetitions = [ln for ln in result.stdout.splitlines() if ln.startswith(("| 0 ", "| 1 "))]
    assert len(repetitions) == 2 and all(ln.rstrip(" |").endswith("diverged") for ln in repetitions)


def test_a_diverging_point_does_not_stop_the_others():
    result = invoke("compare", DIVERGING, "--set", "train.epochs=2", "--sweep", "optimizer.lr=1e6,0.1",
                    "--backends", "mininet")
    assert result.exit_code == 0, result.output
    rows = {ln.split("|")[1].strip(): ln for ln in result.stdout.splitlines()
            if ln.startswith("| diverging[") and "mininet  " in ln}
    assert "diverged" in rows["diverging[optimizer.lr=1000000.0]"]
    assert "diverged" not in rows["diverging[optimizer.lr=0.1]"]


def test_ctrl_c_keeps_finished_points_and_names_the_rest(monkeypatch):
    calls = []

    def interrupted_on_second(spec, *args, **kwargs):
        calls.append(spec.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return run_spec(spec, *args, **kwargs)

    monkeypatch.setattr("mininet.runner.cli.training.run_spec", interrupted_on_second)
    result = invoke("compare", REPORT, *TINY, "--backends", "mininet")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert "| report[loss.type=cross_entropy,optimizer.momentum=0.0] | mininet" in result.stdout
    assert "momentum=0.2] | mininet" not in result.stdout
    assert ("Interrupted (Ctrl-C): the results above are partial, 1 of 4 points finished. Stopped during "
            "report[loss.type=cross_entropy,optimizer.momentum=0.2] (its results are discarded); not started: "
            "report[loss.type=mse,optimizer.momentum=0.0], report[loss.type=mse,optimizer.momentum=0.2].") \
        in " ".join(result.stderr.split())
    assert len(calls) == 2


def test_run_with_a_sweep_ends_with_one_summary_over_the_points():
    result = invoke("run", REPORT, *TINY, "--no-save")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.count("| repetition") == 4  # each point's repetitions
    summary = text.split("Summary over the 4 points:\n")[1]
    rows = [line for line in summary.splitlines() if line.startswith("| report[")]
    assert len(rows) == 4 and len({row.split("|")[1] for row in rows}) == 4
