"""Side-by-side benchmark of the two backends on one spec, in one process.

Every case is timed ``repeats`` times, cases interleaved (so drifting machine load hits both backends
alike), after one untimed warm-up each; the table reports medians and the ratio mininet / torch.
The thread count is the same for both (the process's ``torch.get_num_threads()``).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from dataclasses import dataclass

import torch
from torch.profiler import ProfilerActivity, profile

from ..registry import REGISTRY
from ..spec.experiment import Spec
from ..train.loop import Repetition, prepare, train_loop
from ..train.run import choose_executor


@dataclass
class Case:
    label: str  # e.g. "1 run" or "20 runs vectorized"
    backend: str
    executor: str
    reps: list[Repetition]


@dataclass
class Timing:
    case: Case
    run_seconds: list[float]
    step_seconds: list[float]
    peak_mib: float | None


def _make_trainer(spec: Spec, case: Case):
    make = REGISTRY.builders[(case.backend, "trainer", case.executor)]
    return make(spec, [r.initial_state for r in case.reps])


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_run(spec: Spec, case: Case) -> float:
    """Wall time of one full training (evaluation every epoch included) of the case's repetitions."""
    trainer = _make_trainer(spec, case)
    _sync(spec.device)
    start = time.perf_counter()
    train_loop(trainer, spec, case.reps, vectorized=case.executor == "vectorized")
    _sync(spec.device)
    return time.perf_counter() - start


def time_steps(spec: Spec, case: Case, steps: int) -> float:
    """Mean wall time of one training step (forward, loss, backward, optimizer) on a fixed batch."""
    trainer = _make_trainer(spec, case)
    vectorized = case.executor == "vectorized"
    from ..train.build import DTYPES
    from ..train.metrics import loss_targets

    def batch(r: Repetition):
        d = r.data
        n = min(spec.train.batch_size, len(d.y_train))
        return d.x_train[:n], loss_targets(spec.loss.type, d.y_train[:n], d.n_classes, DTYPES[spec.dtype])

    pairs = [batch(r) for r in case.reps]
    x = torch.stack([p[0] for p in pairs]) if vectorized else pairs[0][0]
    t = torch.stack([p[1] for p in pairs]) if vectorized else pairs[0][1]
    with trainer.context():
        trainer.train(True)
        for _ in range(3):
            trainer.step(x, t)
        _sync(spec.device)
        start = time.perf_counter()
        for _ in range(steps):
            trainer.step(x, t)
        _sync(spec.device)
    return (time.perf_counter() - start) / steps


def peak_memory_mib(spec: Spec, case: Case, epochs: int = 2) -> float:
    """Peak bytes of live tensors allocated during a (shortened, untimed) run of the case.

    CUDA: the caching allocator's peak. CPU: torch's profiler records every allocation and free;
    the running sum of their sizes, in time order, peaks at the answer. Memory per epoch does not
    grow, so two epochs show the peak of a full run (optimizer state, one step's activations and
    the evaluation's outputs).
    """
    short = spec.model_copy(update={"train": spec.train.model_copy(update={"epochs": min(epochs, spec.train.epochs)})})
    if spec.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        time_run(short, case)
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    prof = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
    with _stderr_silenced():  # the profiler's C++ side logs its start and stop to stderr
        prof.start()
    try:
        time_run(short, case)
    finally:
        with _stderr_silenced():
            prof.stop()
    live = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        live += event.self_cpu_memory_usage
        peak = max(peak, live)
    return peak / 2**20


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 (what C++ code writes to) to the null device for the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def cases_for(spec: Spec, reps: list[Repetition], backends: tuple[str, ...], repetitions: int) -> list[Case]:
    cases = [Case("1 run", b, "sequential", reps[:1]) for b in backends]
    if repetitions > 1:
        mode = choose_executor(spec.model_copy(update={"repetitions": repetitions}), "auto")
        cases += [Case(f"{repetitions} runs {mode}", b, mode, reps[:repetitions]) for b in backends]
    return cases


def benchmark(spec: Spec, base_dir, backends: tuple[str, ...] = ("mininet", "torch"), repeats: int = 5,
              repetitions: int | None = None, steps: int = 200, memory: bool = True,
              log=lambda msg: None) -> list[Timing]:
    repetitions = repetitions or spec.repetitions
    spec = spec.model_copy(update={"repetitions": repetitions})
    spec, reps = prepare(spec, base_dir)
    cases = cases_for(spec, reps, backends, repetitions)
    warm = spec.model_copy(update={"train": spec.train.model_copy(update={"epochs": 1})})
    for case in cases:  # warm-up: allocator, kernels, torch.func tracing
        time_run(warm, case)
    runs: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    steps_t: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    for rep in range(repeats):
        order = list(range(len(cases)))
        if rep % 2:
            order.reverse()
        for i in order:
            runs[i].append(time_run(spec, cases[i]))
            steps_t[i].append(time_steps(spec, cases[i], steps))
        log(f"round {rep + 1}/{repeats} done")
    peaks = [peak_memory_mib(spec, c) if memory else None for c in cases]
    return [Timing(c, runs[i], steps_t[i], peaks[i]) for i, c in enumerate(cases)]


def table_rows(timings: list[Timing], reference: str = "torch") -> list[list[str]]:
    """One row per case: medians, and the ratio to the reference backend's same case."""
    med = {(t.case.label, t.case.backend): (statistics.median(t.run_seconds), statistics.median(t.step_seconds))
           for t in timings}
    rows = []
    for t in timings:
        run_s, step_s = med[(t.case.label, t.case.backend)]
        ref = med.get((t.case.label, reference))
        ratio_run = f"{run_s / ref[0]:.2f}" if ref and t.case.backend != reference else ""
        ratio_step = f"{step_s / ref[1]:.2f}" if ref and t.case.backend != reference else ""
        peak = "" if t.peak_mib is None else f"{t.peak_mib:.1f}"
        # what R repetitions cost against one, on the same backend (vectorization's gain shows here)
        one = med.get(("1 run", t.case.backend))
        vs_one = f"{run_s / one[0]:.2f}" if one and t.case.label != "1 run" else ""
        rows.append([t.case.label, t.case.backend, f"{run_s:.3f}", f"{step_s * 1e6:.0f}", peak, ratio_run, ratio_step,
                     vs_one])
    return rows


HEADERS = ("case", "backend", "time/case (s)", "time/step (us)", "peak mem (MiB)", "run ratio vs torch",
           "step ratio vs torch", "time vs 1 run")


def environment_line(spec: Spec) -> str:
    return (f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {spec.device}, "
            f"dtype {spec.dtype}, Python {sys.version.split()[0]}")
