"""Driving a sweep: choose a launcher, run every point that is not done, retry failures, stop on Ctrl-C.

Each point has a :class:`PointState` (pending, running, done or failed, its attempts and last error).
:func:`run_sweep` keeps the launcher's slots full, retries a point that raised or whose worker died
until it has had ``retries + 1`` attempts, then records it as failed and goes on with the others.
Listeners (the run directory, the display) hear of every change as it happens, so a finished point is
written before the next one ends.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..spec.load import Point
from ..train.result import RunResult
from .launchers import LAUNCHERS, InlineLauncher, PoolLauncher, RayLauncher, available_cores
from .task import injected_failure

STATUSES = ("pending", "running", "done", "failed")


@dataclass(frozen=True)
class LaunchPlan:
    """How to fan a sweep out: which launcher, how many points at once, torch threads per worker."""

    launcher: str
    jobs: int | None  # None: as many as the Ray cluster has CPUs
    threads: int | None  # None: leave this process's threads alone (inline)
    retries: int = 1
    address: str | None = None


def plan_launch(launcher: str | None = None, jobs: int | None = None, address: str | None = None,
                retries: int = 1, n_points: int = 1, cores: int | None = None) -> LaunchPlan:
    """The launcher asked for, with defaults filled in; ValueError for a combination that makes no sense.

    No launcher named: ``ray`` with an address, ``pool`` with ``jobs > 1``, else ``inline``. A pool's
    default is one worker per core (no more than there are points), and each worker gets
    ``cores // workers`` torch threads (workers: ``jobs``, or the points if fewer) so that workers times
    threads never exceeds the cores. A Ray task reserves one CPU, so it trains with one thread; on an
    existing cluster (an address, or ``RAY_ADDRESS``) the default is as many points as it has CPUs.
    """
    if launcher is None:
        launcher = "ray" if address else "pool" if jobs and jobs > 1 else "inline"
    if launcher not in LAUNCHERS:
        raise ValueError(f"launcher must be one of {', '.join(LAUNCHERS)}, got {launcher!r}")
    if jobs is not None and jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    if retries < 0:
        raise ValueError(f"--retries must be at least 0, got {retries}")
    if address and launcher != "ray":
        raise ValueError(f"--address is the Ray cluster's; it needs --launcher ray, not {launcher}")
    if launcher == "inline":
        if jobs is not None and jobs > 1:
            raise ValueError(f"--jobs {jobs} needs --launcher pool or ray; inline trains one point at a time")
        return LaunchPlan("inline", 1, None, retries)
    cores = cores or available_cores()
    if launcher == "pool":
        jobs = jobs or max(1, min(n_points, cores))
        return LaunchPlan("pool", jobs, max(1, cores // min(jobs, max(n_points, 1))), retries)
    if jobs is None and not (address or os.environ.get("RAY_ADDRESS")):
        jobs = max(1, min(n_points, cores))  # the local cluster Ray starts gets this many CPUs
    return LaunchPlan("ray", jobs, 1, retries, address)


def make_launcher(plan: LaunchPlan, train: Callable[[Point], list[RunResult]]):
    """The launcher of ``plan``; ``train`` must pickle for pool and ray (a PointTrainer does)."""
    if plan.launcher == "inline":
        return InlineLauncher(train)
    if plan.launcher == "pool":
        return PoolLauncher(train, plan.jobs, plan.threads)
    return RayLauncher(train, plan.jobs, plan.threads, plan.address)


@dataclass
class PointState:
    """Where one point stands; ``results`` only while this command holds them (not in the state file)."""

    status: str = "pending"
    attempts: int = 0
    error: str | None = None
    detail: str = ""  # the last error's traceback
    seconds: float | None = None  # wall time of the attempt that finished it
    results: list[RunResult] = field(default_factory=list, repr=False)


@dataclass
class SweepOutcome:
    points: list[Point]
    states: list[PointState]
    interrupted: list[int] = field(default_factory=list)  # running at Ctrl-C (their results discarded)

    def indices(self, status: str) -> list[int]:
        return [i for i, s in enumerate(self.states) if s.status == status]

    def results(self) -> list[RunResult]:
        """Every done point's results, in the points' order."""
        return [r for i in self.indices("done") for r in self.states[i].results]

    def unfinished(self) -> list[Point]:
        """Points without results after Ctrl-C: those interrupted first, then those never started."""
        waiting = [i for i in self.indices("pending") if i not in self.interrupted]
        return [self.points[i] for i in self.interrupted + waiting]


#: a listener hears (point index, its state, what happened: start, done, retry, failed)
Listener = Callable[[int, PointState, str], None]


def run_sweep(points: Sequence[Point], launcher, retries: int = 1, states: list[PointState] | None = None,
              listeners: Sequence[Listener] = ()) -> SweepOutcome:
    """Train every point not yet done (``states`` from a resumed sweep); never raises for a point's failure."""
    states = states if states is not None else [PointState() for _ in points]
    queue = deque(i for i, s in enumerate(states) if s.status != "done")
    for i in queue:  # a failed point of a resumed sweep starts over with its full retries
        states[i] = PointState()
    started: dict[int, float] = {}

    def tell(i: int, event: str) -> None:
        for listener in listeners:
            listener(i, states[i], event)

    outcome = SweepOutcome(list(points), states)
    try:
        while queue or launcher.running():
            while queue and len(launcher.running()) < launcher.slots:
                i = queue.popleft()
                states[i].status = "running"
                started[i] = time.perf_counter()
                tell(i, "start")
                launcher.submit(i, points[i], injected_failure(i))
            for end in launcher.wait():
                state = states[end.index]
                state.attempts += 1
                if end.results is not None:
                    state.status, state.results, state.error, state.detail = "done", end.results, None, ""
                    state.seconds = time.perf_counter() - started[end.index]
                    tell(end.index, "done")
                    continue
                state.error, state.detail = end.error, end.detail
                if state.attempts <= retries:
                    state.status = "pending"
                    queue.appendleft(end.index)  # again at once: a point's retry does not wait for the rest
                    tell(end.index, "retry")
                else:
                    state.status = "failed"
                    tell(end.index, "failed")
    except KeyboardInterrupt:
        outcome.interrupted = launcher.running()
        for i in outcome.interrupted:
            states[i].status = "pending"
    finally:
        launcher.close()
    return outcome
