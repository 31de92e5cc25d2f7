"""Warming the pool's fork server: imported there once (and by nothing else), it trains a tiny spec.

A process's first training costs over a second of lazy imports and first-call set-up (torch.func,
torch._dynamo, sympy, ...); a later one of the same size takes milliseconds. Pool workers are forks of
the fork server, so what the server has done once, no worker repeats. The warm-up runs with one torch
thread so that the server never starts an OpenMP thread pool, which a forked child could not use.
"""

from __future__ import annotations

import torch

from ..spec.load import validate
from ..train.run import run_spec

_TINY = {
    "name": "warm-up", "seed": 0, "repetitions": 2,
    "data": {"type": "disk", "n_train": 8, "n_test": 8},
    "model": {"layers": [{"type": "linear", "out_features": 4}, {"type": "relu"}, {"type": "linear", "out_features": 2}]},
    "loss": {"type": "cross_entropy"},
    "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.5},
    "train": {"epochs": 1, "batch_size": 4},
}


def warm_up() -> None:
    """Train the tiny spec on both backends, vectorized and one repetition at a time, with one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        spec = validate(_TINY)
        for executor in ("vectorized", "sequential"):
            run_spec(spec, ("mininet", "torch"), executor)
    finally:
        torch.set_num_threads(threads)


warm_up()
