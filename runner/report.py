"""Comparison tables (tabulate) from run results: the report's layout, plus paired differences."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from tabulate import tabulate

from .metrics import METRICS
from .train import RunResult, summarize

HEADERS = ("spec", "backend", "loss train", "loss test", "accuracy train", "accuracy test", "time/run (s)", "runs")
_PRECISION = {"train_loss": 4, "test_loss": 4, "train_acc": 2, "test_acc": 2}


def mean_std(mean: float, std: float, digits: int) -> str:
    """The report's "mean (std)" cell."""
    if math.isnan(mean):
        return "diverged"
    return f"{mean:.{digits}f} ({std:.{digits}f})" if not math.isnan(std) else f"{mean:.{digits}f}"


def summary_rows(results: Sequence[RunResult]) -> list[list[str]]:
    rows = []
    for r in results:
        stats = summarize(r)
        n_div = sum(r.diverged)
        runs = f"{r.repetitions} {r.executor}" + (f", {n_div} diverged" if n_div else "")
        rows.append([r.spec_name, r.backend] + [mean_std(*stats[m], _PRECISION[m]) for m in METRICS]
                    + [f"{r.seconds / r.repetitions:.3f}", runs])
    return rows


def summary_table(results: Sequence[RunResult], fmt: str = "github") -> str:
    return tabulate(summary_rows(results), headers=HEADERS, tablefmt=fmt, disable_numparse=True)


def paired_rows(results: Sequence[RunResult], reference: str = "torch") -> list[list[str]]:
    """Per spec and non-reference backend: mean and max |difference| to the reference, per metric.

    The two backends of a spec trained the same repetitions from the same data, initial parameters and
    batch order, so differences are paired repetition by repetition.
    """
    rows = []
    by_spec: dict[str, dict[str, RunResult]] = {}
    for r in results:
        by_spec.setdefault(r.spec_name, {})[r.backend] = r
    for name, runs in by_spec.items():
        if reference not in runs:
            continue
        ref = runs[reference]
        for backend, r in runs.items():
            if backend == reference:
                continue
            cells = []
            for m in METRICS:
                d = r.final(m) - ref.final(m)
                finite = d[torch.isfinite(d)]
                if len(finite) == 0:
                    cells.append("n/a")
                    continue
                cells.append(f"{finite.mean().item():+.2e} (max {finite.abs().max().item():.1e})")
            rows.append([name, f"{backend} - {reference}"] + cells)
    return rows


def paired_table(results: Sequence[RunResult], fmt: str = "github", reference: str = "torch") -> str:
    rows = paired_rows(results, reference)
    if not rows:
        return ""
    headers = ("spec", "difference", "loss train", "loss test", "accuracy train", "accuracy test")
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)
