"""Where sweep points run: in this process (inline), in worker processes (pool) or on a Ray cluster (ray).

A launcher runs attempts (:func:`~mininet.runner.sweep.task.attempt`) and reports each one's end: its
results, or the error it raised, or that its worker died. It knows nothing of retries, run directories
or the display: :mod:`mininet.runner.sweep.run` drives it. Every launcher has the same four methods::

    slots                      how many attempts may run at once
    submit(index, point, fail) start an attempt (only while fewer than ``slots`` run)
    wait() -> [Ended, ...]     block until at least one running attempt has ended
    close()                    stop whatever still runs (Ctrl-C) and release the workers

The pool starts one process per attempt from a fork server that has imported torch and the runner
once, so a start costs milliseconds, and a worker that dies takes only its own point with it.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from ..spec.load import Point
from ..train.result import RunResult
from .task import attempt

LAUNCHERS = ("inline", "pool", "ray")
RAY_HINT = "pip install 'mininet-backprop[ray]' (in a checkout: pip install -e '.[ray]')"


class LauncherUnavailable(RuntimeError):
    """A launcher that cannot run here (Ray not installed, or its cluster unreachable)."""


@dataclass
class Ended:
    """How one attempt ended: ``results`` when it finished, else ``error`` (a one-line reason)."""

    index: int
    results: list[RunResult] | None = None
    error: str | None = None
    detail: str = ""  # the traceback, for the state file


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, e.g. a container's share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# --------------------------------------------------------------------------- inline
class InlineLauncher:
    """Today's behaviour: each point in this process, one after another; Ctrl-C reaches the training."""

    name = "inline"
    slots = 1

    def __init__(self, train: Callable[[Point], list[RunResult]]) -> None:
        self.train = train
        self._queued: tuple[int, Point, str | None] | None = None

    def submit(self, index: int, point: Point, fail: str | None) -> None:
        self._queued = (index, point, fail)

    def running(self) -> list[int]:
        return [] if self._queued is None else [self._queued[0]]

    def wait(self) -> list[Ended]:
        index, point, fail = self._queued
        try:
            ended = Ended(index, attempt(self.train, point, index, None, fail, in_worker=False))
        except Exception as e:  # a point's failure is recorded; Ctrl-C goes up with the point still running
            ended = Ended(index, error=_describe(e), detail=traceback.format_exc())
        self._queued = None
        return [ended]

    def close(self) -> None:
        self._queued = None


# --------------------------------------------------------------------------- pool
def _child(conn: Any, train: Callable, point: Point, index: int, threads: int, fail: str | None) -> None:
    """A pool worker: one attempt, its outcome sent back through ``conn``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to handle: it stops us
    try:
        message = ("ok", attempt(train, point, index, threads, fail))
    except Exception as e:
        message = ("error", _describe(e), traceback.format_exc())
    # plain pickle, whose tensors carry their bytes: the ForkingPickler that conn.send uses would pass
    # torch storages as file descriptors, gone with this process once it exits
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    conn.close()


class PoolLauncher:
    """``jobs`` worker processes at a time, each training one point with ``threads`` torch threads."""

    name = "pool"

    def __init__(self, train: Callable[[Point], list[RunResult]], jobs: int, threads: int) -> None:
        self.train, self.slots, self.threads = train, jobs, threads
        self._context = multiprocessing.get_context("forkserver")
        # the server imports torch and the runner and trains a tiny spec once (warm.py); each worker is
        # a fork of it (never of this process, whose OpenMP threads a child could not use)
        self._context.set_forkserver_preload([__name__, f"{__package__}.warm"])
        self._workers: dict[Any, tuple[int, Any]] = {}  # receiving end -> (index, process)

    def submit(self, index: int, point: Point, fail: str | None) -> None:
        receive, send = self._context.Pipe(duplex=False)
        process = self._context.Process(target=_child, args=(send, self.train, point, index, self.threads, fail),
                                        name=f"mininet-point-{index}", daemon=True)
        process.start()
        send.close()  # ours closed: the pipe reads EOF once the worker is gone
        self._workers[receive] = (index, process)

    def running(self) -> list[int]:
        return [index for index, _ in self._workers.values()]

    def wait(self) -> list[Ended]:
        ended = []
        for receive in multiprocessing.connection.wait(list(self._workers)):
            index, process = self._workers.pop(receive)
            try:
                message = pickle.loads(receive.recv_bytes())
            except EOFError:
                process.join()
                ended.append(Ended(index, error=f"worker process died (exit code {process.exitcode})"))
                continue
            finally:
                receive.close()
            process.join()
            ended.append(Ended(index, message[1]) if message[0] == "ok"
                         else Ended(index, error=message[1], detail=message[2]))
        return ended

    def close(self) -> None:
        for receive, (_, process) in list(self._workers.items()):
            process.terminate()
            process.join()
            receive.close()
        self._workers.clear()


# --------------------------------------------------------------------------- ray
def import_ray():
    try:
        import ray
    except ImportError:
        raise LauncherUnavailable(f"the ray launcher needs Ray, which is not installed: {RAY_HINT}") from None
    return ray


class RayLauncher:
    """Points as Ray tasks (one CPU each) on the cluster at ``address``, or on a local one it starts.

    Without an address (and without ``RAY_ADDRESS``) it starts a local cluster of ``jobs`` CPUs and
    stops it at the end; a cluster it did not start (an address, or ``ray.init`` called before, as a
    test does) is left running. Ray's own retries are off: the sweep's retries count every attempt.
    """

    name = "ray"

    def __init__(self, train: Callable[[Point], list[RunResult]], jobs: int | None, threads: int,
                 address: str | None = None) -> None:
        self.ray = ray = import_ray()
        self.train, self.threads = train, threads
        self.started = not ray.is_initialized()
        if self.started:
            address = address or os.environ.get("RAY_ADDRESS") or None
            try:
                ray.init(address=address, num_cpus=None if address else jobs, include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise LauncherUnavailable(f"cannot start or reach the Ray cluster{f' at {address}' if address else ''}: {e}") from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.slots = max(1, min(jobs or cpus, cpus))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(attempt)
        self._refs: dict[Any, int] = {}

    def submit(self, index: int, point: Point, fail: str | None) -> None:
        self._refs[self._remote.remote(self.train, point, index, self.threads, fail)] = index

    def running(self) -> list[int]:
        return list(self._refs.values())

    def wait(self) -> list[Ended]:
        ray = self.ray
        ready, _ = ray.wait(list(self._refs), num_returns=1)
        ended = []
        for ref in ready:
            index = self._refs.pop(ref)
            try:
                ended.append(Ended(index, ray.get(ref)))
            except ray.exceptions.RayTaskError as e:  # the point raised: its own exception, unwrapped
                cause = e.cause if getattr(e, "cause", None) is not None else e
                ended.append(Ended(index, error=_describe(cause), detail=str(e)))
            except ray.exceptions.RayError as e:  # its worker or node died
                ended.append(Ended(index, error=f"Ray worker died: {type(e).__name__}", detail=str(e)))
        return ended

    def close(self) -> None:
        for ref in self._refs:
            self.ray.cancel(ref, force=True)
        self._refs.clear()
        if self.started:
            self.ray.shutdown()
