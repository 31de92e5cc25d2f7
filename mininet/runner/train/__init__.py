"""Training a spec: the data, initial parameters and batch order of each repetition drawn once,
every component built on either backend from its spec class, and one loop that both backends share.

    from mininet.runner.train import run_spec
    results = run_spec(spec)        # one RunResult per backend
"""

from . import backends as _backends  # noqa: F401  (registers both backends' classes and trainers)
from .loop import Progress, Repetition, prepare, train_loop
from .result import RunResult, summarize
from .run import EXECUTORS, NOT_VECTORIZABLE, choose_executor, run_backend, run_spec

__all__ = ["EXECUTORS", "NOT_VECTORIZABLE", "Progress", "Repetition", "RunResult", "choose_executor", "prepare",
           "run_backend", "run_spec", "summarize", "train_loop"]
