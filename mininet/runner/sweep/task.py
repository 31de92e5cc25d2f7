"""A sweep point as a pure function: (resolved spec, point) -> plain results, in whatever process runs it.

:class:`PointTrainer` is what every launcher calls: it holds only plain values (backend names, the
repetition executor), so it pickles to a worker process or a Ray node, and the results it returns
(:class:`~mininet.runner.train.result.RunResult`: metrics and final states as tensors, seconds) pickle
back. Nothing else leaves the worker, so a point gives the same bits whichever launcher runs it, as
long as the torch thread count is the same (see :func:`attempt`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import torch

from ..spec.load import Point
from ..train.loop import Progress
from ..train.result import RunResult
from ..train.run import run_spec

#: test hook: ``MININET_TEST_FAIL_POINT=k`` makes point k (0-based, in sweep order) raise on every
#: attempt; ``k:kill`` makes its worker process die instead (inline, where the worker is the command
#: itself, it raises). Read by the command, not the worker, so it reaches remote Ray workers too.
FAIL_POINT_VARIABLE = "MININET_TEST_FAIL_POINT"
FAIL_MODES = ("raise", "kill")


class PointFailure(RuntimeError):
    """The failure that the test hook injects."""


@dataclass(frozen=True)
class PointTrainer:
    """Trains one point on the given backends: ``run_spec`` of its spec, from its folder."""

    backends: tuple[str, ...]
    executor: str = "auto"

    def __call__(self, point: Point, progress: Progress | None = None) -> list[RunResult]:
        return run_spec(point.spec, self.backends, self.executor, point.base_dir, progress=progress)


def injected_failure(index: int, environ: dict[str, str] | None = None) -> str | None:
    """The failure mode the test hook asks of point ``index`` (None: none), e.g. "3" or "3:kill"."""
    value = (os.environ if environ is None else environ).get(FAIL_POINT_VARIABLE, "").strip()
    if not value:
        return None
    number, _, mode = value.partition(":")
    mode = mode or "raise"
    if not number.isdigit() or mode not in FAIL_MODES:
        raise ValueError(f"{FAIL_POINT_VARIABLE} must be K or K:kill (K a point's 0-based index), got {value!r}")
    return mode if int(number) == index else None


def attempt(train: Callable[[Point], list[RunResult]], point: Point, index: int, threads: int | None = None,
            fail: str | None = None, in_worker: bool = True) -> list[RunResult]:
    """One attempt at a point, in the process that runs it: set the torch threads, train, return results.

    ``threads``: torch's intra-op threads in this process (None leaves them alone, as inline does);
    ``fail``: the test hook's mode for this point; ``in_worker``: whether dying would kill only a worker.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    if fail == "kill" and in_worker:
        os._exit(70)  # a worker that dies without a word, as an out-of-memory kill would leave it
    if fail is not None:
        raise PointFailure(f"point {index} ({point.label}) made to fail by {FAIL_POINT_VARIABLE}")
    return train(point)
