"""The sweep options of ``run`` and ``compare`` (--launcher, --jobs, --address, --retries, --resume)
and the glue between a command and :mod:`mininet.runner.sweep`: plan, run directory, failures."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import click

from ..results.rundir import RunDirError
from ..spec.load import Point
from ..train.result import RunResult
from ..sweep import (LAUNCHERS, LaunchPlan, LauncherUnavailable, PointState, PointTrainer, SweepOutcome, make_launcher,
                     plan_launch, run_sweep)
from ..sweep.progress import PointsDisplay
from ..sweep.rundir import SweepDir
from ..sweep.summary import points_text
from .options import EXIT_FAILURE, RUN_DIR, Output, fail

_OPTIONS = [
    click.option("--launcher", type=click.Choice(LAUNCHERS), default=None,
                 help="where sweep points train: inline (this process, one by one), pool (worker processes), "
                      "ray (a Ray cluster) [default: ray with --address, pool with --jobs N>1, else inline]"),
    click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                 help="points trained at once by pool or ray [default: one per core, at most the points]; "
                      "each pool worker gets cores/workers torch threads"),
    click.option("--address", default=None, metavar="HOST:PORT",
                 help="the Ray cluster's head node (implies --launcher ray) [default: RAY_ADDRESS, else a "
                      "local cluster started for this sweep]"),
    click.option("--retries", type=click.IntRange(min=0), default=1, show_default=True,
                 help="attempts more for a point that raises or whose worker dies, before it is recorded as failed"),
    click.option("--resume", type=RUN_DIR, default=None,
                 help="a sweep's run directory to complete: train only its points that are missing or failed "
                      "(give the same specs, --set and --sweep)"),
]


@dataclass
class Launch:
    """The sweep options of one command; ``prepare`` turns them into a :class:`Sweep`."""

    launcher: str | None = None
    jobs: int | None = None
    address: str | None = None
    retries: int = 1
    resume: Path | None = None

    def prepare(self, points: Sequence[Point], output: Output, kind: str, backends: tuple[str, ...], executor: str,
                fmt: str, text_of: Callable[[list[RunResult]], str]) -> Sweep:
        """The plan and the sweep's run directory, or exit 2 for options that do not go together."""
        try:
            plan = plan_launch(self.launcher, self.jobs, self.address, self.retries, len(points))
        except ValueError as e:
            fail(str(e))
        if self.resume is not None and output.out is not None:
            fail("--resume writes into its run directory; it cannot be used with --out")
        layout = None
        if output.save and (len(points) > 1 or self.resume is not None):
            layout = SweepDir(points, kind, backends, executor, plan.launcher, fmt, output.margins, text_of)
        elif self.resume is not None:
            fail("--resume writes into the run directory; it cannot be used with --no-save")
        states = [PointState() for _ in points]
        if self.resume is not None:
            try:
                states = layout.resumed_states(self.resume)
            except RunDirError as e:
                fail(str(e))
        return Sweep(points, plan, output, backends, executor, layout, states)


def launch_options(command: Callable) -> Callable:
    """Adds the sweep options to a command; it receives ``launch`` (a :class:`Launch`)."""

    @functools.wraps(command)
    def wrapper(*args, launcher, jobs, address, retries, resume, **kwargs):
        return command(*args, launch=Launch(launcher, jobs, address, retries, resume), **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


@dataclass
class Sweep:
    """One command's sweep: run it (inside ``output.start``), then what to print and save."""

    points: Sequence[Point]
    plan: LaunchPlan
    output: Output
    backends: tuple[str, ...]
    executor: str
    layout: SweepDir | None
    states: list[PointState]
    outcome: SweepOutcome | None = field(default=None)

    @property
    def inline(self) -> bool:
        return self.plan.launcher == "inline"

    def run(self, inline_train: Callable[[Point], list[RunResult]]) -> SweepOutcome:
        """Train the points; ``inline_train`` is used in this process, a PointTrainer in workers."""
        train = inline_train if self.inline else PointTrainer(self.backends, self.executor)
        try:
            launcher = make_launcher(self.plan, train)
        except LauncherUnavailable as e:
            fail(str(e))
        display = PointsDisplay(self.points, self.states,
                                enabled=not self.output.quiet and len(self.points) > 1
                                and (not self.inline or self.output.verbose))
        listeners = [display]
        if self.layout is not None:
            self.layout.start(self.output.directory, self.states)
            listeners.insert(0, self.layout)
        self.outcome = run_sweep(self.points, launcher, self.plan.retries, self.states, listeners)
        if self.layout is not None:
            self.layout.write_state()  # points interrupted by Ctrl-C are waiting again
        return self.outcome

    def results(self) -> list[RunResult]:
        return self.outcome.results()

    def entries(self) -> list[tuple]:
        """(spec, folder, file) of every done point, for the run directory over all of them."""
        return [(self.points[i].spec, self.points[i].base_dir, self.points[i].file) for i in self.outcome.indices("done")]

    def text(self, tables: str) -> str:
        """What the command prints: its tables, then (for a sweep with a run directory) the points' table."""
        if self.layout is None:
            return tables
        return tables + "\n\n" + points_text(self.layout.state_doc(), self.layout.fmt)

    def files(self) -> list[str]:
        return [] if self.layout is None else self.layout.files()

    def report_failed(self) -> None:
        """Failed points: name them and their errors on stderr, and exit 1."""
        failed = self.outcome.indices("failed")
        if not failed:
            return
        lines = [f"  {self.points[i].label}: {self.states[i].error} (after {self.states[i].attempts} attempt"
                 f"{'s' if self.states[i].attempts != 1 else ''})" for i in failed]
        again = f"; train them again with --resume {self.output.directory}" if self.layout is not None else ""
        click.echo(f"\n{len(failed)} of {len(self.points)} point{'s' if len(self.points) != 1 else ''} failed"
                   f"{again}:\n" + "\n".join(lines), err=True)
        sys.exit(EXIT_FAILURE)
