"""Training a spec on the backends: all repetitions at once (vectorized) or one by one, each backend
from the same prepared data, initial state and batch order."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from ..registry import REGISTRY
from ..spec.experiment import Spec
from .loop import Progress, Repetition, prepare, train_loop
from .result import RunResult

EXECUTORS = ("auto", "vectorized", "sequential")
#: layers that draw random numbers or keep batch-dependent state while training, which torch.func's
#: vmap cannot reproduce replica by replica; specs with them are trained one repetition at a time
NOT_VECTORIZABLE = ("dropout", "batch_norm", "batch_norm2d")
#: layers whose hand-written module has no replica dimension yet
NOT_REPLICATED = ("causal_self_attention",)
#: layers whose torch.nn module torch.func's vmap cannot batch (no batching rule for aten::lstm and
#: its kin), so that the torch backend could not train their repetitions as one computation
NOT_VMAPPED_BY_TORCH = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def all_layers(layers: list) -> list:
    """Every layer of a model, those inside residual blocks included."""
    found = []
    for layer in layers:
        found.append(layer)
        if layer.type == "residual":
            found += all_layers(layer.layers)
    return found


def vectorization_blockers(spec: Spec) -> list[str]:
    """Why the repetitions of a spec cannot train as one vectorized computation (none: they can)."""
    layers = all_layers(spec.model.layers)
    blocking = [f"{layer.type} layers" for layer in layers if layer.type in NOT_VECTORIZABLE]
    blocking += [f"{layer.type} layers (no replicas in mininet yet)" for layer in layers if layer.type in NOT_REPLICATED]
    blocking += [f"{layer.type} layers with dropout" for layer in layers if getattr(layer, "dropout", 0) > 0]
    blocking += [f"{layer.type} layers (torch.func's vmap has no batching rule for torch.nn."
                 f"{NOT_VMAPPED_BY_TORCH[layer.type]})" for layer in layers if layer.type in NOT_VMAPPED_BY_TORCH]
    if getattr(spec.scheduler, "monitor", None) is not None:  # one learning rate for R replicas' own metrics
        blocking.append(f"a {spec.scheduler.type} scheduler, which watches each repetition's {spec.scheduler.monitor}")
    return sorted(set(blocking))


def choose_executor(spec: Spec, executor: str = "auto") -> str:
    """``auto`` trains all repetitions as one vectorized computation when the spec allows it."""
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    blocking = vectorization_blockers(spec)
    if executor == "vectorized" and blocking:
        raise ValueError(f"spec {spec.name!r} cannot be vectorized: it has {', '.join(blocking)}; "
                         "use the sequential executor")
    if executor == "auto":
        return "sequential" if blocking or spec.repetitions == 1 else "vectorized"
    return executor


def run_backend(spec: Spec, reps: list[Repetition], backend: str, executor: str = "auto",
                progress: Progress | None = None) -> RunResult:
    """Train every repetition of a prepared spec on one backend."""
    mode = choose_executor(spec, executor)
    make = REGISTRY.builders[(backend, "trainer", mode)]
    if mode == "vectorized":
        trainer = make(spec, [r.initial_state for r in reps])
        start = time.perf_counter()
        metrics = train_loop(trainer, spec, reps, vectorized=True, progress=progress)
        seconds = time.perf_counter() - start
        states = trainer.states()
    else:
        metrics_list, states, seconds = [], [], 0.0
        for rep in reps:
            trainer = make(spec, [rep.initial_state])
            torch.manual_seed(rep.dropout_seed)  # same dropout masks on both backends
            start = time.perf_counter()
            metrics_list.append(train_loop(trainer, spec, [rep], vectorized=False, progress=progress))
            seconds += time.perf_counter() - start
            states.extend(trainer.states())
        metrics = torch.cat(metrics_list)
    return RunResult(spec.name, backend, mode, metrics, states, seconds)


def run_spec(spec: Spec, backends: tuple[str, ...] = ("mininet", "torch"), executor: str = "auto",
             base_dir: Path = Path("."), progress: Progress | None = None) -> list[RunResult]:
    """Prepare once, train on each backend: both see the same data, initial state and batch order."""
    resolved, reps = prepare(spec, base_dir)
    return [run_backend(resolved, reps, backend, executor, progress) for backend in backends]
