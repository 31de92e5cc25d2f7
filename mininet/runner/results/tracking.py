"""Experiment tracking: a finished run's per-epoch metrics of every backend, its resolved specs and the
printed tables (with the paired statistics) written for TensorBoard or MLflow, what torch users watch.

Both are optional extras (``pip install "mininet-backprop[tensorboard]"`` / ``[mlflow]``); each writes
once training is done, from the same results the run directory holds:

* ``tensorboard``: event files under ``RUN_DIR/tensorboard/<spec>/<backend>/``, one scalar per metric
  and epoch (``train_loss/mean`` over repetitions, ``train_loss/repetition_k``), the resolved spec and
  the tables as text. ``tensorboard --logdir RUN_DIR/tensorboard`` shows the backends side by side.
* ``mlflow``: one MLflow run per spec and backend, in the experiment named after the run directory,
  with every metric per epoch (the mean, and each repetition), the spec's values as parameters, and
  the spec and tables as artifacts. The tracking URI is ``MLFLOW_TRACKING_URI`` when set (a server or
  a database), else MLflow's file store in ``RUN_DIR/mlruns``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from ..spec.experiment import Spec
from ..spec.render import render_spec
from ..train.metrics import METRICS
from ..train.result import RunResult
from .rundir import file_stem

TRACKERS = ("tensorboard", "mlflow")


class TrackerUnavailable(RuntimeError):
    """The tracker's package is not installed; the message says how to install it."""


def require(tracker: str) -> None:
    """Fail before training, not after, when a tracker's package is missing."""
    try:
        __import__(tracker)  # the package is named as the tracker, and so is its extra
    except ImportError:
        raise TrackerUnavailable(f"--log {tracker} needs the {tracker} package: "
                                 f"pip install \"mininet-backprop[{tracker}]\"") from None


def epoch_series(result: RunResult) -> dict[str, list[list[float]]]:
    """metric tag -> one list of per-epoch values per series (the mean first, then each repetition)."""
    series = {}
    for i, metric in enumerate(METRICS):
        values = result.metrics[:, :, i]  # (repetitions, epochs)
        series[f"{metric}/mean"] = values.mean(0).tolist()
        for k in range(values.shape[0]):
            series[f"{metric}/repetition_{k}"] = values[k].tolist()
    return series


def _tensorboard(directory: Path, specs: Sequence[Spec], results: Sequence[RunResult], text: str) -> None:
    from torch.utils.tensorboard import SummaryWriter

    by_name = {spec.name: spec for spec in specs}
    for result in results:
        with SummaryWriter(log_dir=str(directory / "tensorboard" / file_stem(result.spec_name) / result.backend)) as w:
            for tag, values in epoch_series(result).items():
                for epoch, value in enumerate(values):
                    w.add_scalar(tag, value, epoch + 1)
            w.add_text("spec", "```\n" + render_spec(by_name[result.spec_name]) + "\n```")
            w.add_text("tables", "```\n" + text + "\n```")


def _flat(doc: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(doc, dict):
        return {k: v for key, value in doc.items() for k, v in _flat(value, f"{prefix}{key}.").items()}
    if isinstance(doc, list):
        return {k: v for i, value in enumerate(doc) for k, v in _flat(value, f"{prefix}{i}.").items()}
    return {prefix.rstrip("."): str(doc)}


def _mlflow(directory: Path, specs: Sequence[Spec], results: Sequence[RunResult], text: str) -> None:
    import mlflow
    from mlflow.entities import Metric

    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri is None:
        # MLflow keeps its file store in maintenance mode; it is what a folder of results needs here
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        uri = (directory / "mlruns").resolve().as_uri()
    client = mlflow.tracking.MlflowClient(uri)
    name = directory.resolve().name
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    by_name = {spec.name: spec for spec in specs}
    for result in results:
        spec = by_name[result.spec_name]
        run = client.create_run(experiment_id, run_name=f"{result.spec_name} ({result.backend})",
                                tags={"backend": result.backend, "spec": result.spec_name, "executor": result.executor})
        rid = run.info.run_id
        params = _flat(spec.model_dump(mode="json", exclude_none=True))
        client.log_batch(rid, params=[mlflow.entities.Param(k, v[:6000]) for k, v in params.items()])
        metrics = [Metric(tag.replace("/", "."), value, 0, epoch + 1)
                   for tag, values in epoch_series(result).items() for epoch, value in enumerate(values)]
        for start in range(0, len(metrics), 1000):  # MLflow's limit per batch
            client.log_batch(rid, metrics=metrics[start:start + 1000])
        client.log_text(rid, render_spec(spec), "spec.toml")
        client.log_text(rid, text, "tables.txt")
        client.set_terminated(rid)


WRITERS: dict[str, Callable[..., None]] = {"tensorboard": _tensorboard, "mlflow": _mlflow}


def track(trackers: Sequence[str], directory: Path, specs: Sequence[Spec], results: Sequence[RunResult],
          text: str) -> None:
    """Write a finished run to each tracker."""
    for tracker in trackers:
        WRITERS[tracker](directory, specs, results, text)
