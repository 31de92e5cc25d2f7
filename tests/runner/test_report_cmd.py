"""Issue 6: `mininet report RUN_DIR` prints a finished run's tables again, exactly; the tables' columns."""

from __future__ import annotations

import math

import torch

from mininet.runner.train.metrics import METRICS
from mininet.runner.results.report import COLUMNS, HEADERS, compare_text, summary_table
from mininet.runner.results.stats import parse_margins
from mininet.runner.train import RunResult

from results_helpers import compared, invoke, write_spec


def test_report_reprints_compare_exactly(tmp_path_factory):
    run_dir, stdout = compared(tmp_path_factory)
    result = invoke("report", run_dir)
    assert result.exit_code == 0
    assert result.stdout == stdout
    assert "loss train" in stdout and "equivalent" in stdout  # not two empty strings


def test_report_reprints_run_exactly_and_keeps_the_runs_options(tmp_path):
    spec = write_spec(tmp_path, repetitions=3)
    ran = invoke("run", spec, "--backend", "torch", "--format", "grid", "--out", tmp_path / "a")
    assert ran.exit_code == 0
    assert invoke("report", tmp_path / "a").stdout == ran.stdout
    assert "+----" in ran.stdout  # the grid format was kept
    # another format on request, same numbers
    plain = invoke("report", tmp_path / "a", "--format", "plain").stdout
    def summary_cells(text):
        return [line.replace("|", " ").split() for line in text.splitlines() if "tiny" in line]

    assert plain != ran.stdout and summary_cells(plain) == summary_cells(ran.stdout) != []

    compared_ = invoke("compare", spec, "--margin", "acc=0.001", "--margin", "test_loss=1e-9", "--out", tmp_path / "b")
    assert compared_.exit_code == 0
    assert "accuracy test ±0.001" in compared_.stdout
    assert invoke("report", tmp_path / "b").stdout == compared_.stdout


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = invoke("report", tmp_path)
    assert result.exit_code == 2 and "not a finished run directory" in result.stderr


def _result(backend: str, finals: list[list[float]], seconds: float = 1.0) -> RunResult:
    """A RunResult whose last epoch holds ``finals`` (one row of METRICS per repetition)."""
    last = torch.tensor(finals, dtype=torch.float64).unsqueeze(1)
    return RunResult("s", backend, "vectorized", torch.cat([last * 2, last], 1), [], seconds)


def test_summary_columns_hold_the_metrics_their_headers_name():
    # METRICS is (train_loss, train_acc, test_loss, test_acc); the report's columns are losses first
    finals = [[0.1, 91.0, 0.3, 93.0], [0.2, 92.0, 0.4, 94.0]]
    row = summary_table([_result("mininet", finals)], "tsv").splitlines()[1].split("\t")
    cells = dict(zip(HEADERS, (c.strip() for c in row)))
    assert cells["loss train"].startswith("0.1500") and cells["loss test"].startswith("0.3500")
    assert cells["accuracy train"].startswith("91.50") and cells["accuracy test"].startswith("93.50")
    assert COLUMNS == ("train_loss", "test_loss", "train_acc", "test_acc") and set(COLUMNS) == set(METRICS)


def test_compare_text_states_ci_margin_and_verdict():
    ref = [[0.10, 90.0, 0.20, 88.0], [0.12, 92.0, 0.22, 90.0], [0.11, 91.0, 0.21, 89.0]]
    shifted = [[a + 0.001, b + 5.0, c, d if k else math.nan] for k, (a, b, c, d) in enumerate(ref)]
    text = compare_text([_result("mininet", shifted), _result("torch", ref)], "tsv",
                        margins=parse_margins(["loss=5%", "acc=1"]))
    cells = [[c.strip() for c in line.split("\t")] for line in text.splitlines()]
    rows = {c[2]: c for c in cells if len(c) > 2 and c[1] == "mininet - torch"}
    # a constant shift: zero-width CI at the shift; inside the margin, or outside it
    assert rows["loss train"][3:6] == ["3", "+1.00e-03", "[+1.00e-03, +1.00e-03]"]
    assert rows["loss train"][-1] == "equivalent" and rows["loss train"][-2] == "±5.50e-03 (5%)"
    assert rows["accuracy train"][-1] == "different"
    assert rows["loss test"][-1] == "equivalent"
    # the NaN pair is left out of the test accuracy statistics
    assert rows["accuracy test"][3] == "2"


def test_pairs_with_a_diverged_repetition_are_left_out_and_the_status_column_is_named():
    from mininet.runner.results.report import paired_stats, repetition_table

    finals = torch.tensor([[[0.3, 90.0, 0.4, 88.0]], [[math.nan, 55.0, math.nan, 50.0]], [[0.2, 95.0, 0.3, 93.0]]],
                          dtype=torch.float64)  # (repetitions, epochs, METRICS): repetition 1 diverged
    ours = RunResult("s", "mininet", "sequential", finals, [], 1.0)
    theirs = RunResult("s", "torch", "sequential", finals.clone(), [], 1.0)
    theirs.metrics[2, 0, 0] = math.inf  # repetition 2 diverged on the torch side only
    stats = {row["metric"]: row["stats"] for row in paired_stats([ours, theirs])}
    assert stats["train_acc"].n == 1 and stats["test_loss"].n == 1  # only repetition 0 is a pair
    table = repetition_table(ours)
    assert table.splitlines()[0].split("|")[-2].strip() == "loss"
    assert "diverged" in table and "finite" in table
