"""The live count of a sweep's points on stderr: one line whenever a point starts, ends, retries or fails.

    points 3/8 done, 2 running, 1 failed, 2 waiting | done report[loss.type=mse,...] in 4.1 s

Shown for the pool and ray launchers (whose workers cannot drive the per-epoch bar) and with
``--verbose``; never with ``--quiet``.
"""

from __future__ import annotations

import sys
from typing import Sequence, TextIO

import click

from ..spec.load import Point
from .run import PointState

_VERBS = {"start": "started", "done": "done", "retry": "retrying", "failed": "FAILED"}


class PointsDisplay:
    """A listener of :func:`~mininet.runner.sweep.run.run_sweep` that prints the counts."""

    def __init__(self, points: Sequence[Point], states: list[PointState], enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.labels = [p.label for p in points]
        self.states = states
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream

    def counts(self) -> str:
        n = {s: sum(st.status == s for st in self.states) for s in ("done", "running", "failed", "pending")}
        return (f"points {n['done']}/{len(self.states)} done, {n['running']} running, {n['failed']} failed, "
                f"{n['pending']} waiting")

    def __call__(self, index: int, state: PointState, event: str) -> None:
        if not self.enabled:
            return
        what = f"{_VERBS[event]} {self.labels[index]}"
        if event == "done" and state.seconds is not None:
            what += f" in {state.seconds:.1f} s"
        elif event in ("retry", "failed"):
            what += f" (attempt {state.attempts}: {state.error})"
        click.echo(f"{self.counts()} | {what}", file=self.stream)
