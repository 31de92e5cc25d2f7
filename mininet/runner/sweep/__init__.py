"""Sweeps that outgrow one process: launchers (inline, pool, ray), retries, resumable run directories.

task.py       a point as a pure function: (resolved spec, point) -> results as plain data
launchers.py  where attempts run: this process, worker processes, a Ray cluster
run.py        the plan (launcher, jobs, threads) and the loop: slots full, retries, Ctrl-C
rundir.py     the sweep's run directory: per-point folders, the state file, resuming
progress.py   the live count of points on stderr
summary.py    the table over points printed at the end and by ``mininet report``
warm.py       imported by the pool's fork server only: one tiny training, so no worker pays for a first one
"""

from .launchers import LAUNCHERS, RAY_HINT, LauncherUnavailable
from .run import LaunchPlan, PointState, SweepOutcome, make_launcher, plan_launch, run_sweep
from .task import FAIL_POINT_VARIABLE, PointTrainer

__all__ = ["FAIL_POINT_VARIABLE", "LAUNCHERS", "LaunchPlan", "LauncherUnavailable", "PointState", "PointTrainer",
           "RAY_HINT", "SweepOutcome", "make_launcher", "plan_launch", "run_sweep"]
