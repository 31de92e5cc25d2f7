"""Issue 6: checkpoints load into either backend and evaluate identically (float64, within 1e-12)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mininet.runner.results.checkpoint import evaluate, read_checkpoint
from mininet.runner.train.metrics import METRICS

from results_helpers import BATCHNORM_DROPOUT, MLP, compared, invoke, write_spec

OTHER = {"mininet": "torch", "torch": "mininet"}


@pytest.fixture(scope="module", params=[MLP, BATCHNORM_DROPOUT], ids=["mlp", "batchnorm-dropout"])
def trained(request, tmp_path_factory):
    """Per backend: the run directory of ``mininet run --backend B`` on a tiny float64 spec."""
    folder = tmp_path_factory.mktemp("ckpt")
    spec = write_spec(folder, layers=request.param)
    dirs = {"layers": request.param}
    for backend in OTHER:
        result = invoke("run", spec, "--backend", backend, "--out", folder / backend)
        assert result.exit_code == 0, result.output
        dirs[backend] = folder / backend
    return dirs


@pytest.mark.parametrize("trained_by", sorted(OTHER))
def test_a_model_evaluates_in_the_other_backend_as_it_trained(trained, trained_by):
    for k in (0, 1):
        ckpt = read_checkpoint(trained[trained_by] / f"checkpoints/tiny/{trained_by}-{k}.pt")
        assert ckpt.backend == trained_by and ckpt.repetition == k and ckpt.spec_name == "tiny"
        other = evaluate(ckpt, OTHER[trained_by])
        same = evaluate(ckpt, trained_by)
        for m in METRICS:
            # the metrics recorded at the end of training, recomputed by the other backend's model
            assert other[m] == pytest.approx(ckpt.final_metrics[m], rel=0, abs=1e-12), m
            assert other[m] == pytest.approx(same[m], rel=0, abs=1e-12), m


def test_both_backends_saved_the_same_parameters(trained):
    # same data, initial state and batch order: the float64 runs end with the same parameters
    for k in (0, 1):
        a = read_checkpoint(trained["mininet"] / f"checkpoints/tiny/mininet-{k}.pt").state_dict
        b = read_checkpoint(trained["torch"] / f"checkpoints/tiny/torch-{k}.pt").state_dict
        assert list(a) == list(b)
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-12)


def test_a_checkpoint_is_a_plain_state_dict_for_torch_nn(tmp_path_factory):
    # no runner needed: torch.load (weights only) and load_state_dict into a hand-built torch.nn model
    run_dir, _ = compared(tmp_path_factory)
    doc = torch.load(run_dir / "checkpoints/tiny/mininet-0.pt", weights_only=True)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)).double()
    model.load_state_dict(doc["state_dict"])
    assert "[model]" in doc["spec_toml"] and doc["repetition"] == 0


def test_eval_command_prints_both_backends_and_the_recorded_metrics(trained, tmp_path):
    path = trained["torch"] / "checkpoints/tiny/torch-1.pt"
    result = invoke("eval", path)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "tiny, trained by torch, repetition 1; data of repetition 1" in out
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert {"mininet", "torch", "recorded at training (torch)"} <= set(rows)
    assert rows["mininet"].split("|")[2:] == rows["recorded at training (torch)"].split("|")[2:]
    diff = float(out.rsplit("largest difference between backends: ", 1)[1])
    assert diff <= 1e-12

    # --spec: the spec file itself (same data); --repetition: another repetition's data set
    spec = write_spec(tmp_path, layers=trained["layers"])
    with_spec = invoke("eval", path, "--spec", spec, "--backend", "mininet")
    assert with_spec.exit_code == 0, with_spec.output
    assert with_spec.stdout.splitlines()[-2].split("|")[2:] == rows["mininet"].split("|")[2:]
    other_data = invoke("eval", path, "--backend", "torch", "--repetition", "0")
    assert "data of repetition 0" in other_data.stdout
    assert other_data.stdout.splitlines()[-2] != rows["torch"]


def test_eval_refuses_what_is_not_a_checkpoint(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    result = invoke("eval", bad)
    assert result.exit_code == 2 and "not a mininet checkpoint" in result.stderr
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    result = invoke("eval", tmp_path / "other.pt")
    assert result.exit_code == 2 and "not a mininet checkpoint" in result.stderr
    assert invoke("eval", tmp_path / "missing.pt").exit_code == 2


def test_eval_with_a_spec_that_does_not_fit_the_parameters(trained, tmp_path):
    spec = write_spec(tmp_path, layers='    { type = "linear", out_features = 2 },')
    result = invoke("eval", trained["mininet"] / "checkpoints/tiny/mininet-0.pt", "--spec", spec)
    assert result.exit_code == 2 and "cannot evaluate" in result.stderr
