"""What training one spec on one backend gives: every repetition's metrics per epoch and final
parameters, and their summary (mean and std over repetitions)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .metrics import METRICS


@dataclass
class RunResult:
    """One backend's training of all repetitions of one spec."""

    spec_name: str
    backend: str
    executor: str
    metrics: torch.Tensor  # (repetitions, epochs, len(METRICS)), float64, CPU
    states: list[dict[str, torch.Tensor]]  # final parameters of each repetition (CPU)
    seconds: float  # wall time of all repetitions' training, evaluation included
    info: dict = field(default_factory=dict)

    @property
    def repetitions(self) -> int:
        return self.metrics.shape[0]

    @property
    def diverged(self) -> list[bool]:
        """Per repetition: a non-finite loss at any epoch."""
        losses = self.metrics[:, :, [METRICS.index("train_loss"), METRICS.index("test_loss")]]
        return (~torch.isfinite(losses)).flatten(1).any(1).tolist()

    def final(self, metric: str) -> torch.Tensor:
        return self.metrics[:, -1, METRICS.index(metric)]


def summarize(result: RunResult) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation over repetitions of each final metric (diverged runs left out)."""
    keep = [i for i, d in enumerate(result.diverged) if not d]
    out = {}
    for m in METRICS:
        values = result.final(m)[keep]
        mean = values.mean().item() if len(keep) else math.nan
        std = values.std().item() if len(keep) > 1 else math.nan
        out[m] = (mean, std)
    return out
