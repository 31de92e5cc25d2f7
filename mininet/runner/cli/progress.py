"""Progress of long training: a bar on a terminal, per-epoch lines with ``--verbose``, else silence.

Work is counted in repetition-epochs: a vectorized backend trains all R repetitions in each epoch, so
one of its epochs advances the bar by R. Everything goes to stderr, so stdout holds only the tables.
"""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager
from typing import Sequence, TextIO

import click
import torch

from ..spec.experiment import Spec
from ..train.loop import Progress as Callback
from ..train.metrics import METRICS


def work(specs: Sequence[Spec], n_backends: int) -> int:
    """Repetition-epochs of training ``specs`` on ``n_backends`` backends."""
    return n_backends * sum(s.repetitions * s.train.epochs for s in specs)


def _repetitions(indices: list[int]) -> str:
    if len(indices) == 1:
        return f"repetition {indices[0]}"
    return f"repetitions {indices[0]}-{indices[-1]}"


class Progress(AbstractContextManager):
    """Reports training progress; ``callback(spec_name)`` is what ``run_spec(progress=...)`` takes.

    Modes: ``bar`` (click's progress bar; used only when ``stream`` is a terminal), ``verbose``
    (one line per epoch and backend) or nothing (``quiet``, or a bar asked for on a non-terminal).
    """

    def __init__(self, total: int, quiet: bool = False, verbose: bool = False, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.total = total
        self.verbose = verbose and not quiet
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.show_bar = not quiet and not verbose and isatty()
        self._bar = None
        self._start = time.perf_counter()

    def __enter__(self) -> Progress:
        self._start = time.perf_counter()
        if self.show_bar:
            self._bar = click.progressbar(length=self.total, label="training", file=self.stream, show_pos=True,
                                          show_eta=True, show_percent=True)
            self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None

    def callback(self, spec_name: str) -> Callback | None:
        """The per-epoch callback for one spec (None when nothing is shown, so training skips the call)."""
        if self._bar is None and not self.verbose:
            return None

        def report(backend: str, indices: list[int], epoch: int, epochs: int, metrics: torch.Tensor) -> None:
            if self._bar is not None:
                self._bar.label = f"{spec_name} {backend}"
                self._bar.update(len(indices))
            else:
                elapsed = time.perf_counter() - self._start
                # the mean over the repetitions trained together; only --verbose pays for this copy
                means = metrics.double().mean(0).tolist()
                values = "  ".join(f"{name} {value:.4g}" for name, value in zip(METRICS, means))
                click.echo(f"{spec_name}  {backend}  {_repetitions(indices)}  epoch {epoch + 1}/{epochs}"
                           f"  {values}  {elapsed:.1f} s", file=self.stream)

        return report
