"""--log tensorboard / --log mlflow: the files are written and read back by each tool's own reader,
with the metrics of every epoch of both backends, the resolved spec and the paired statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mininet.runner.cli import main
from mininet.runner.train.metrics import METRICS

EPOCHS, REPETITIONS = 3, 2
TINY = ("--set", f"train.epochs={EPOCHS}", "--set", f"repetitions={REPETITIONS}", "--quiet")


def metrics_of_run(run_dir: Path) -> dict[tuple[str, str, int, int], float]:
    """(backend, metric, repetition, epoch) -> value, as the run directory's metrics.jsonl has them."""
    out = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        for m in METRICS:
            out[(row["backend"], m, row["repetition"], row["epoch"])] = row[m]
    return out


@pytest.fixture(scope="module")
def tracked_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("tracked") / "run"
    result = CliRunner().invoke(main, ["compare", "report/ce_sgd", *TINY, "--out", str(run_dir),
                                       "--log", "tensorboard", "--log", "mlflow"])
    assert result.exit_code == 0, result.output
    return run_dir


def test_tensorboard_event_files_hold_every_epoch_of_both_backends(tracked_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    expected = metrics_of_run(tracked_run)
    for backend in ("mininet", "torch"):
        events = EventAccumulator(str(tracked_run / "tensorboard" / "report-ce-sgd" / backend))
        events.Reload()
        for m in METRICS:
            for k in range(REPETITIONS):
                scalars = events.Scalars(f"{m}/repetition_{k}")
                assert [s.step for s in scalars] == list(range(1, EPOCHS + 1))
                for s in scalars:
                    assert s.value == pytest.approx(expected[(backend, m, k, s.step)], rel=1e-6)  # float32 events
            assert len(events.Scalars(f"{m}/mean")) == EPOCHS
        texts = events.Tensors("spec/text_summary") + events.Tensors("tables/text_summary")
        assert any(b"report-ce-sgd" in t.tensor_proto.string_val[0] for t in texts)
        assert any(b"equivalent" in t.tensor_proto.string_val[0] for t in texts)  # the paired statistics


def test_mlflow_runs_hold_every_epoch_params_and_artifacts(tracked_run, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = mlflow.tracking.MlflowClient((tracked_run / "mlruns").resolve().as_uri())
    experiment = client.get_experiment_by_name(tracked_run.name)
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags["backend"] for r in runs) == ["mininet", "torch"]
    expected = metrics_of_run(tracked_run)
    for run in runs:
        backend = run.data.tags["backend"]
        assert run.data.params["optimizer.lr"] == "0.1" and run.data.params["train.epochs"] == str(EPOCHS)
        for m in METRICS:
            for k in range(REPETITIONS):
                history = client.get_metric_history(run.info.run_id, f"{m}.repetition_{k}")
                assert sorted((h.step, h.value) for h in history) == [
                    (e, pytest.approx(expected[(backend, m, k, e)], rel=1e-12)) for e in range(1, EPOCHS + 1)]
        artifacts = Path(client.download_artifacts(run.info.run_id, "", str(tracked_run / f"fetched-{backend}")))
        assert "report-ce-sgd" in (artifacts / "spec.toml").read_text()
        assert "equivalent" in (artifacts / "tables.txt").read_text()


def test_log_without_a_run_directory_is_refused():
    result = CliRunner().invoke(main, ["run", "report/ce_sgd", *TINY, "--no-save", "--log", "tensorboard"])
    assert result.exit_code == 2 and "cannot be used with --no-save" in result.output
