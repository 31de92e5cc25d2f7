"""Issue 6: every run and compare leaves a run directory whose files all parse and agree."""

from __future__ import annotations

import csv
import json
import re

import pytest
import torch

from mininet.runner.spec.shapes import resolve
from mininet.runner.results.checkpoint import spec_from_text
from mininet.runner.spec.load import load_spec
from mininet.runner.train.metrics import METRICS
from mininet.runner.spec.render import render_spec
from mininet.runner.results.rundir import file_stem, load_run

from helpers import SPEC_FILES
from results_helpers import compared, invoke, write_spec

ENVIRONMENT = ("command", "argv", "mininet", "python", "torch", "os", "cpu", "cpu_count", "threads", "gpu", "git")


def test_compare_writes_every_file_and_each_parses(tmp_path_factory):
    run_dir, stdout = compared(tmp_path_factory)
    meta = json.loads((run_dir / "run.json").read_text())

    # run.json lists exactly the files there are, and no temporary file was left behind
    on_disk = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file())
    assert on_disk == sorted(meta["files"])
    assert set(meta["files"]) == {
        "run.json", "specs/tiny.toml", "metrics.csv", "metrics.jsonl", "summary.txt", "summary.csv",
        "summary.json", *(f"checkpoints/tiny/{b}-{k}.pt" for b in ("mininet", "torch") for k in (0, 1))}

    # metadata
    assert meta["kind"] == "compare" and meta["backends"] == ["mininet", "torch"]
    env = meta["environment"]
    assert set(ENVIRONMENT) <= set(env)
    assert env["python"].count(".") == 2 and env["torch"] == torch.__version__ and env["threads"] >= 1
    assert set(env["git"]) == {"commit", "dirty"}
    assert env["git"]["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", env["git"]["commit"])
    (spec_meta,) = meta["specs"]
    assert spec_meta["seeds"]["seed"] == 3
    assert [r["repetition"] for r in spec_meta["seeds"]["repetitions"]] == [0, 1]
    assert all(set(r) == {"repetition", "data", "init", "order", "dropout"} for r in spec_meta["seeds"]["repetitions"])

    # the resolved spec re-validates, with the inferred widths filled in
    spec, _ = load_spec(run_dir / "specs/tiny.toml")
    assert [layer.in_features for layer in spec.model.layers if layer.type == "linear"] == [2, 8]
    original, _ = load_spec(spec_meta["source"])
    assert spec == resolve(original, 2)

    # per-epoch metrics: CSV and JSON lines hold the same numbers, one row per backend, repetition, epoch
    with (run_dir / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == len(lines) == 2 * 2 * 3
    assert {(r["backend"], r["repetition"], r["epoch"]) for r in rows} == {
        (b, str(k), str(e)) for b in ("mininet", "torch") for k in (0, 1) for e in (1, 2, 3)}
    for row, line in zip(rows, lines):
        assert [float(row[m]) for m in METRICS] == [line[m] for m in METRICS]
        assert 0 <= line["train_acc"] <= 100 and line["train_loss"] > 0

    # summary: printed text byte for byte; CSV and JSON agree with the metrics
    assert (run_dir / "summary.txt").read_text() == stdout
    with (run_dir / "summary.csv").open(newline="") as f:
        summary = list(csv.DictReader(f))
    doc = json.loads((run_dir / "summary.json").read_text())
    assert [s["backend"] for s in summary] == [s["backend"] for s in doc["summary"]] == ["mininet", "torch"]
    finals = [float(r["test_acc"]) for r in rows if r["backend"] == "torch" and r["epoch"] == "3"]
    assert float(summary[1]["test_acc_mean"]) == pytest.approx(sum(finals) / 2, abs=1e-12)
    assert {p["metric"] for p in doc["paired"]} == set(METRICS)
    assert all(p["verdict"] == "equivalent" and p["pairs"] == 2 for p in doc["paired"])


def test_metrics_read_back_exactly(tmp_path_factory):
    run_dir, _ = compared(tmp_path_factory)
    run = load_run(run_dir)
    for r in run.results:
        assert r.metrics.shape == (2, 3, len(METRICS)) and r.metrics.dtype == torch.float64
    # the two backends of this float64 spec train bit-identically, so their curves read back equal
    assert torch.equal(run.results[0].metrics, run.results[1].metrics)


def test_no_save_writes_nothing_and_default_directory_is_named_after_the_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = write_spec(tmp_path, repetitions=1, epochs=1)
    assert invoke("run", spec, "--no-save").exit_code == 0
    assert not (tmp_path / "runs").exists()
    result = invoke("run", spec)
    assert result.exit_code == 0
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.name != "latest"]
    assert re.fullmatch(r"tiny-\d{8}-\d{6}", run_dir.name)
    assert f"run directory: {run_dir.relative_to(tmp_path)}" in result.stderr
    assert json.loads((run_dir / "run.json").read_text())["kind"] == "run"
    # runs/latest follows the newest run saved under runs/ (not one given with --out)
    assert (tmp_path / "runs/latest").resolve() == run_dir.resolve()
    assert invoke("compare", spec).exit_code == 0
    newest = max((p for p in (tmp_path / "runs").iterdir() if p.name != "latest"), key=lambda p: p.stat().st_mtime)
    assert newest != run_dir and (tmp_path / "runs/latest").resolve() == newest.resolve()
    assert invoke("report", tmp_path / "runs/latest").exit_code == 0
    assert invoke("run", spec, "--out", tmp_path / "elsewhere").exit_code == 0
    assert (tmp_path / "runs/latest").resolve() == newest.resolve()


def test_an_existing_non_empty_out_directory_is_refused_before_training(tmp_path):
    spec = write_spec(tmp_path)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "keep.txt").write_text("earlier results")
    result = invoke("compare", spec, "--out", tmp_path / "old")
    assert result.exit_code == 2
    assert "not an empty directory" in result.stderr and result.stdout == ""
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["keep.txt"]


def test_two_specs_with_one_name_are_refused(tmp_path):
    spec = write_spec(tmp_path)
    result = invoke("compare", spec, spec, "--out", tmp_path / "run")
    assert result.exit_code == 2 and "share the name tiny" in result.stderr


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_every_shipped_spec_survives_the_toml_round_trip(path):
    spec, _ = load_spec(path)
    assert spec_from_text(render_spec(spec), str(path)) == spec


def test_a_csv_spec_copy_points_at_its_data(tmp_path):
    # the copy in the run directory lives elsewhere, so its data paths are made absolute
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "points.csv").write_text(
        "a,b,label\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40)))
    spec = tmp_path / "csv.toml"
    spec.write_text('name = "csv"\n[data]\ntype = "csv"\npath = "data/points.csv"\n'
                    '[model]\nlayers = [{ type = "linear", out_features = 2 }]\n'
                    '[loss]\ntype = "cross_entropy"\n[optimizer]\ntype = "sgd"\nlr = 0.1\n'
                    '[train]\nepochs = 1\nbatch_size = 8\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert invoke("run", spec, "--out", elsewhere / "run").exit_code == 0
    copy, _ = load_spec(elsewhere / "run/specs/csv.toml")
    assert copy.data.path == str(tmp_path / "data" / "points.csv")
    result = invoke("eval", elsewhere / "run/checkpoints/csv/mininet-0.pt")
    assert result.exit_code == 0, result.output


def test_sweep_points_get_shell_friendly_file_names(tmp_path):
    assert file_stem("tiny[optimizer.lr=0.1,train.batch_size=50]") == "tiny-optimizer.lr=0.1-train.batch_size=50"
    assert file_stem("plain-name_1.2") == "plain-name_1.2"
    spec = write_spec(tmp_path, repetitions=1, epochs=1)
    ran = invoke("compare", spec, "--sweep", "optimizer.lr=0.1,0.2", "--out", tmp_path / "run")
    assert ran.exit_code == 0, ran.output
    assert sorted(p.name for p in (tmp_path / "run/specs").iterdir()) == [
        "tiny-optimizer.lr=0.1.toml", "tiny-optimizer.lr=0.2.toml"]
    point, _ = load_spec(tmp_path / "run/specs/tiny-optimizer.lr=0.2.toml")
    assert point.name == "tiny[optimizer.lr=0.2]" and point.optimizer.lr == 0.2 and not point.sweep
    assert (tmp_path / "run/checkpoints/tiny-optimizer.lr=0.2/torch-0.pt").is_file()
    assert invoke("report", tmp_path / "run").stdout == ran.stdout
