"""The benchmark runs end to end in a shortened mode (CI). It asserts the table, never a speed."""

from __future__ import annotations

from click.testing import CliRunner

from mininet.runner.measure.bench import Case, peak_memory_mib
from mininet.runner.cli import main
from mininet.runner.train import prepare

from helpers import ROOT, load, shortened


def test_bench_prints_every_case_for_both_backends():
    args = ["bench", str(ROOT / "specs/report/ce_momentum.toml"), "--repeats", "2", "--epochs", "1",
            "--repetitions", "3", "--steps", "2", "--format", "plain"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines()]
    rows = [cells for cells in lines if cells[:2] in (["1", "run"], ["3", "runs"])]
    backend = [next(c for c in r if c in ("mininet", "torch")) for r in rows]
    assert list(zip([r[0] for r in rows], backend)) == [("1", "mininet"), ("1", "torch"), ("3", "mininet"),
                                                         ("3", "torch")]
    for r, b in zip(rows, backend):
        # time per case, time per step, peak memory; the mininet rows also have the two ratios to torch,
        # and the 3-run rows their time against the same backend's one run
        numbers = r[r.index(b) + 1:]
        assert len(numbers) == (5 if b == "mininet" else 3) + (r[0] == "3")
        assert all(float(v) >= 0 for v in numbers)
    assert "median of 2" in result.output


def test_bench_takes_overrides_and_reports_bad_ones():
    spec = str(ROOT / "specs/report/ce_momentum.toml")
    args = ["bench", spec, "--repeats", "1", "--steps", "2", "--no-memory", "--format", "plain",
            "--set", "train.epochs=1", "--set", "repetitions=2", "--set", "dtype='float64'"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "2 runs vectorized" in result.output and "dtype float64" in result.output
    bad = CliRunner().invoke(main, ["bench", spec, "--set", "optimizer.lr='fast'"])
    assert bad.exit_code == 2
    assert "optimizer.lr: must be a number" in bad.output and "Traceback" not in bad.output


def test_peak_memory_counts_what_a_run_allocates():
    spec, base = load(ROOT / "specs/report/ce_sgd.toml")
    spec, reps = prepare(shortened(spec, repetitions=4), base)
    one = peak_memory_mib(spec, Case("", "mininet", "sequential", reps[:1]), epochs=1)
    four = peak_memory_mib(spec, Case("", "mininet", "vectorized", reps), epochs=1)
    # the evaluation's outputs and activations scale with the replicas
    assert 0 < one < four


def test_table_ratios_are_medians_divided():
    from mininet.runner.measure.bench import Timing, table_rows

    def timing(label, backend, runs):
        return Timing(Case(label, backend, "", []), runs, [r / 100 for r in runs], None)

    rows = table_rows([timing("1 run", "mininet", [0.4, 0.5, 9.0]), timing("1 run", "torch", [1.0, 1.0, 1.0]),
                       timing("20 runs", "mininet", [1.5, 2.0, 2.5]), timing("20 runs", "torch", [8.0, 8.0, 8.0])])
    by_case = {(r[0], r[1]): r for r in rows}
    assert by_case[("1 run", "mininet")][5:] == ["0.50", "0.50", ""]  # median 0.5 (the 9.0 outlier ignored)
    assert by_case[("20 runs", "mininet")][5:] == ["0.25", "0.25", "4.00"]
    assert by_case[("20 runs", "torch")][5:] == ["", "", "8.00"]
