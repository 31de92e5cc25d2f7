"""Issue 16: sweep points on a process pool or a Ray cluster, with retries, failures and --resume.

A 4-point sweep (specs/report.toml, shortened) trains once inline; every other launcher and every
interrupted-then-resumed run must give the same bits: the same metrics.csv text (floats written with
repr) and equal final states in every checkpoint.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from mininet.runner.cli import main
from mininet.runner.results.checkpoint import read_checkpoint
from mininet.runner.spec.load import load_points
from mininet.runner.sweep import FAIL_POINT_VARIABLE, LauncherUnavailable, plan_launch
from mininet.runner.sweep.launchers import RayLauncher
from mininet.runner.sweep.rundir import point_dirnames

from helpers import ROOT

pytestmark = pytest.mark.usefixtures("single_thread")
REPORT = ROOT / "specs/report.toml"
TINY = ("--set", "train.epochs=2", "--set", "repetitions=2", "--set", "data.n_train=100", "--set", "data.n_test=50")
DIRS = ["loss.type=cross_entropy,optimizer.momentum=0.0", "loss.type=cross_entropy,optimizer.momentum=0.2",
        "loss.type=mse,optimizer.momentum=0.0", "loss.type=mse,optimizer.momentum=0.2"]


def compare(out: Path, *args: str):
    return CliRunner().invoke(main, ["compare", str(REPORT), *TINY, "--out", str(out), "-q", *map(str, args)])


def states(run_dir: Path) -> dict[str, dict[str, torch.Tensor]]:
    return {str(p.relative_to(run_dir)): read_checkpoint(p).state_dict for p in sorted(run_dir.glob("checkpoints/*/*.pt"))}


def assert_same_run(run_dir: Path, reference: Path) -> None:
    """The same metrics, bit for bit, and the same final parameters of every repetition and backend."""
    assert (run_dir / "metrics.csv").read_text() == (reference / "metrics.csv").read_text()
    ours, theirs = states(run_dir), states(reference)
    assert list(ours) == list(theirs) and len(ours) == 4 * 2 * 2
    for name in ours:
        assert ours[name].keys() == theirs[name].keys()
        assert all(torch.equal(ours[name][k], theirs[name][k]) for k in ours[name]), name


@pytest.fixture(scope="module")
def inline(tmp_path_factory) -> Path:
    """The reference: the sweep trained in this process, one point after another, with one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("inline") / "run"
    result = compare(out)
    torch.set_num_threads(before)
    assert result.exit_code == 0, result.output
    return out


# --------------------------------------------------------------------------- the plan
@pytest.mark.parametrize("args,plan", [
    ({}, ("inline", 1, None)),
    ({"jobs": 1}, ("inline", 1, None)),
    ({"jobs": 2}, ("pool", 2, 4)),  # --jobs N>1 alone means a pool; 8 cores / 2 workers
    ({"launcher": "pool"}, ("pool", 4, 2)),  # one worker per point here (4 points < 8 cores)
    ({"launcher": "pool", "jobs": 3}, ("pool", 3, 2)),  # workers * threads <= cores
    ({"launcher": "pool", "jobs": 5}, ("pool", 5, 2)),  # no more workers than points: 4 of them share 8 cores
    ({"launcher": "pool", "jobs": 16, "cores": 2}, ("pool", 16, 1)),
    ({"launcher": "ray"}, ("ray", 4, 1)),  # a local cluster of as many CPUs as points (at most the cores)
    ({"address": "10.0.0.1:6379"}, ("ray", None, 1)),  # an existing cluster: as many as it has CPUs
])
def test_plan_fills_in_the_defaults(args, plan, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    got = plan_launch(n_points=4, **{"cores": 8, **args})
    assert (got.launcher, got.jobs, got.threads) == plan


def test_ray_address_in_the_environment_means_an_existing_cluster(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    got = plan_launch("ray", n_points=4, cores=8)
    assert (got.launcher, got.jobs, got.address) == ("ray", None, None)  # Ray reads the variable itself
    assert plan_launch(n_points=4, cores=8).launcher == "inline"  # the variable alone does not choose Ray


@pytest.mark.parametrize("args,message", [
    ({"jobs": 0}, "--jobs must be at least 1"),  # (on the command line, click's range says no first)
    ({"retries": -1}, "--retries must be at least 0"),
])
def test_plan_rejects_bad_numbers(args, message):
    with pytest.raises(ValueError, match=message):
        plan_launch(n_points=4, cores=8, **args)


@pytest.mark.parametrize("args,message", [
    (("--launcher", "inline", "--jobs", "2"), "--jobs 2 needs --launcher pool or ray"),
    (("--launcher", "pool", "--address", "h:1"), "--address is the Ray cluster's; it needs --launcher ray"),
    (("--resume", "."), "--resume writes into its run directory; it cannot be used with --out"),
])
def test_options_that_do_not_go_together_are_a_usage_error(tmp_path, args, message):
    result = compare(tmp_path / "run", *args)
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""
    assert not (tmp_path / "run").exists()  # refused before anything is written


def test_point_folders_are_hydras_override_dirnames():
    points = load_points(REPORT)
    assert point_dirnames(points) == DIRS
    several = load_points(ROOT / "specs/report/ce_sgd.toml") + load_points(ROOT / "specs/report/mse_sgd.toml")
    assert point_dirnames(several) == ["report-ce-sgd", "report-mse-sgd"]


# --------------------------------------------------------------------------- same bits on every launcher
def test_a_pool_gives_the_inline_bits_and_a_sweep_directory(inline, tmp_path):
    out = tmp_path / "pool"
    result = compare(out, "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert_same_run(out, inline)
    state = json.loads((out / "sweep.json").read_text())
    assert state["launcher"] == "pool" and [p["dir"] for p in state["points"]] == [f"points/{d}" for d in DIRS]
    assert all(p["status"] == "done" and p["attempts"] == 1 for p in state["points"])
    for d in DIRS:  # each point's folder is a whole run directory of that point alone
        meta = json.loads((out / "points" / d / "run.json").read_text())
        assert len(meta["specs"]) == 1 and meta["specs"][0]["name"] == f"report[{d}]"
    # the top-level run.json lists every file there is, the sweep's too
    meta = json.loads((out / "run.json").read_text())
    assert sorted(meta["files"]) == sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    # the tables printed, and printed again by `mininet report`, end with the points' table
    assert "sweep: 4 of 4 points done (pool launcher)" in result.stdout
    report = CliRunner().invoke(main, ["report", str(out)])
    assert report.exit_code == 0 and report.stdout == result.stdout


def test_ray_on_a_local_cluster_gives_the_inline_bits(inline, tmp_path, monkeypatch):
    """The launcher starts a local cluster (num_cpus=2, include_dashboard=False) and stops it at the end."""
    ray = pytest.importorskip("ray", reason="the ray extra: pip install -e '.[ray]'")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert not ray.is_initialized()
    started = []
    real_init = ray.init
    monkeypatch.setattr(ray, "init", lambda **kwargs: started.append(kwargs) or real_init(**kwargs))
    try:
        out = tmp_path / "ray"
        result = compare(out, "--launcher", "ray", "--jobs", "2", "--retries", "0")
        assert result.exit_code == 0, result.output
        assert_same_run(out, inline)
        assert "(ray launcher)" in result.stdout
        assert [(k["address"], k["num_cpus"], k["include_dashboard"]) for k in started] == [(None, 2, False)]
        assert not ray.is_initialized()  # the cluster it started is stopped
    finally:
        ray.shutdown()


def test_a_point_failing_on_ray_is_retried_then_reported(tmp_path, monkeypatch):
    """A point that raises, and one whose Ray worker dies, on one local cluster that the test starts (the
    sweep leaves a cluster it did not start running)."""
    ray = pytest.importorskip("ray", reason="the ray extra: pip install -e '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        for fail, why in (("1", "PointFailure: point 1"), ("1:kill", "Ray worker died: ")):
            monkeypatch.setenv(FAIL_POINT_VARIABLE, fail)
            out = tmp_path / fail.replace(":", "-")
            result = compare(out, "--launcher", "ray", "--jobs", "2")
            assert result.exit_code == 1, result.output
            assert ray.is_initialized()
            state = json.loads((out / "sweep.json").read_text())
            assert [(p["status"], p["attempts"]) for p in state["points"]] == [
                ("done", 1), ("failed", 2), ("done", 1), ("done", 1)]
            assert state["points"][1]["error"].startswith(why)
            assert f"report[{DIRS[1]}]: {why}" in " ".join(result.stderr.split())
    finally:
        ray.shutdown()


def test_without_ray_the_ray_launcher_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(LauncherUnavailable, match=r"pip install 'mininet-backprop\[ray\]'"):
        RayLauncher(lambda p: [], 2, 1)
    result = compare(tmp_path / "run", "--launcher", "ray")
    assert result.exit_code == 2 and "pip install 'mininet-backprop[ray]'" in result.stderr


# --------------------------------------------------------------------------- faults and --resume
@pytest.mark.parametrize("launcher,fail", [("inline", "2"), ("pool", "2"), ("pool", "2:kill")])
def test_a_failing_point_is_retried_reported_and_resumed(inline, tmp_path, monkeypatch, launcher, fail):
    out = tmp_path / "run"
    monkeypatch.setenv(FAIL_POINT_VARIABLE, fail)
    result = compare(out, "--launcher", launcher, *(("--jobs", "2") if launcher == "pool" else ()))
    assert result.exit_code == 1, result.output
    bad = "report[loss.type=mse,optimizer.momentum=0.0]"
    why = "worker process died (exit code 70)" if fail.endswith("kill") else "PointFailure: point 2"
    stderr = " ".join(result.stderr.split())
    assert f"1 of 4 points failed; train them again with --resume {out}:" in stderr
    assert f"{bad}: {why}" in stderr and "(after 2 attempts)" in stderr  # the first try and one retry
    state = json.loads((out / "sweep.json").read_text())
    assert [(p["status"], p["attempts"]) for p in state["points"]] == [("done", 1), ("done", 1), ("failed", 2),
                                                                       ("done", 1)]
    assert why in (out / "points" / DIRS[2] / "error.txt").read_text()
    # the other points are written whole; the top level holds them (and only them)
    assert all((out / "points" / d / "run.json").is_file() for d in DIRS if d != DIRS[2])
    assert bad not in (out / "metrics.csv").read_text() and "| 3   | points/" in result.stdout

    monkeypatch.delenv(FAIL_POINT_VARIABLE)
    resumed = CliRunner().invoke(main, ["compare", str(REPORT), *TINY, "--resume", str(out), "-q", "--launcher", launcher,
                                        *(("--jobs", "2") if launcher == "pool" else ())])
    assert resumed.exit_code == 0, resumed.output
    state = json.loads((out / "sweep.json").read_text())
    assert [p["attempts"] for p in state["points"]] == [1, 1, 1, 1]  # only the failed point trained again
    assert not (out / "points" / DIRS[2] / "error.txt").exists()
    assert_same_run(out, inline)


def test_resume_refuses_another_sweep_and_a_plain_run_directory(inline, tmp_path):
    result = CliRunner().invoke(main, ["compare", str(REPORT), *TINY, "--sweep", "optimizer.lr=0.5,0.6",
                                       "--resume", str(inline), "-q"])
    assert result.exit_code == 2 and "holds a sweep of other points" in result.stderr
    plain = tmp_path / "plain"
    assert CliRunner().invoke(main, ["run", str(ROOT / "specs/report/ce_sgd.toml"), *TINY, "--out", str(plain),
                                     "-q"]).exit_code == 0
    result = CliRunner().invoke(main, ["compare", str(REPORT), *TINY, "--resume", str(plain), "-q"])
    assert result.exit_code == 2 and "not a sweep's run directory" in result.stderr


def test_ctrl_c_in_a_pool_keeps_the_finished_points_and_stops_the_workers(inline, tmp_path, monkeypatch):
    from mininet.runner.sweep.launchers import PoolLauncher

    waits, workers, running = [], [], []
    real_wait = PoolLauncher.wait

    def wait_then_interrupt(self):
        waits.append(1)
        if len(waits) == 2:  # one or two points have ended; Ctrl-C while the next two train
            workers.extend(process for _, process in self._workers.values())
            running.extend(self.running())
            raise KeyboardInterrupt
        return real_wait(self)

    monkeypatch.setattr(PoolLauncher, "wait", wait_then_interrupt)
    out = tmp_path / "run"
    result = compare(out, "--jobs", "2")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(workers) == 2 and not any(p.is_alive() for p in workers)  # stopped, not left training
    state = json.loads((out / "sweep.json").read_text())
    done = [i for i, p in enumerate(state["points"]) if p["status"] == "done"]
    waiting = [i for i in range(4) if i not in done + running]
    # points end in any order: one or two are done, two were training, the rest never started
    assert len(running) == 2 and 1 <= len(done) <= 2 and sorted(done + running + waiting) == [0, 1, 2, 3]
    assert all(state["points"][i]["status"] == "pending" for i in running + waiting)
    label = [p["label"] for p in state["points"]]
    assert (f"{len(done)} of 4 points finished. Stopped during {label[running[0]]}, {label[running[1]]} (their "
            "results are discarded)" + (f"; not started: {label[waiting[0]]}." if waiting else ".")) \
        in " ".join(result.stderr.split())
    assert (out / "metrics.csv").read_text().count("\n") == 1 + len(done) * 2 * 2 * 2  # only finished points
    resumed = CliRunner().invoke(main, ["compare", str(REPORT), *TINY, "--resume", str(out), "-q", "--jobs", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert_same_run(out, inline)


def test_run_fans_out_too_and_report_prints_it_again(tmp_path):
    """``mininet run`` (one backend) takes the same options: a pool gives the inline bits."""
    outs = {}
    for name, extra in (("inline", ()), ("pool", ("--jobs", "2"))):
        outs[name] = tmp_path / name
        result = CliRunner().invoke(main, ["run", str(REPORT), *TINY, "--out", str(outs[name]), "-q", *extra])
        assert result.exit_code == 0, result.output
        assert f"sweep: 4 of 4 points done ({name} launcher)" in result.stdout
        assert CliRunner().invoke(main, ["report", str(outs[name])]).stdout == result.stdout
    assert (outs["pool"] / "metrics.csv").read_text() == (outs["inline"] / "metrics.csv").read_text()


def test_resume_after_the_command_was_killed_trains_what_was_running(inline, tmp_path):
    """``kill -9`` leaves sweep.json saying "running" and no run.json at the top; --resume finishes it."""
    import shutil

    out = tmp_path / "killed"
    shutil.copytree(inline, out)
    state = json.loads((out / "sweep.json").read_text())
    state["points"][3].update(status="running", attempts=0, seconds=None)
    (out / "sweep.json").write_text(json.dumps(state))
    shutil.rmtree(out / "points" / DIRS[3])
    (out / "run.json").unlink()
    resumed = CliRunner().invoke(main, ["compare", str(REPORT), *TINY, "--resume", str(out), "-q"])
    assert resumed.exit_code == 0, resumed.output
    assert [p["status"] for p in json.loads((out / "sweep.json").read_text())["points"]] == ["done"] * 4
    assert (out / "points" / DIRS[3] / "run.json").is_file()
    assert_same_run(out, inline)
