"""The printed text of a run: the report's tables (tabulate) and the paired statistics between backends.

``run_text`` and ``compare_text`` are exactly what ``mininet run`` / ``mininet compare`` print, so
``mininet report RUN_DIR`` can print it again from the saved files.
"""

from __future__ import annotations

import math
from typing import Sequence

from tabulate import tabulate

from ..train.metrics import METRICS
from ..train.result import RunResult, summarize
from .stats import CONFIDENCE, DEFAULT_MARGINS, Margin, PairedDifference, paired_difference

#: the report's column order (METRICS is the order of the metrics tensor)
COLUMNS = ("train_loss", "test_loss", "train_acc", "test_acc")
LABELS = {"train_loss": "loss train", "test_loss": "loss test", "train_acc": "accuracy train",
          "test_acc": "accuracy test"}
HEADERS = ("spec", "backend", *(LABELS[m] for m in COLUMNS), "time/run (s)", "runs")
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
        rows.append([r.spec_name, r.backend] + [mean_std(*stats[m], _PRECISION[m]) for m in COLUMNS]
                    + [f"{r.seconds / r.repetitions:.3f}", runs])
    return rows


def summary_table(results: Sequence[RunResult], fmt: str = "github") -> str:
    return tabulate(summary_rows(results), headers=HEADERS, tablefmt=fmt, disable_numparse=True)


def repetition_table(result: RunResult, fmt: str = "github") -> str:
    """One row per repetition: its final metrics, and whether it diverged."""
    rows = []
    for k in range(result.repetitions):
        cells = [f"{result.metrics[k, -1, METRICS.index(m)].item():.4f}" for m in COLUMNS]
        rows.append([k] + cells + ["diverged" if result.diverged[k] else "finite"])
    headers = ("repetition", *(LABELS[m] for m in COLUMNS), "loss")
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


# --------------------------------------------------------------------------- paired statistics
def paired_stats(results: Sequence[RunResult], reference: str = "torch",
                 margins: dict[str, Margin] | None = None) -> list[dict]:
    """Per spec, non-reference backend and metric: the paired differences to the reference backend.

    Each item: ``spec``, ``backend``, ``reference``, ``metric`` and ``stats`` (a
    :class:`~mininet.runner.results.stats.PairedDifference`, or None when no pair is left: pairs where
    either repetition diverged are left out).
    """
    margins = DEFAULT_MARGINS if margins is None else margins
    by_spec: dict[str, dict[str, RunResult]] = {}
    for r in results:
        by_spec.setdefault(r.spec_name, {})[r.backend] = r
    out = []
    for name, runs in by_spec.items():
        if reference not in runs:
            continue
        ref = runs[reference]
        for backend, r in runs.items():
            if backend == reference:
                continue
            # a pair in which either repetition diverged compares nothing (its accuracy is that of noise)
            keep = [k for k, (a, b) in enumerate(zip(r.diverged, ref.diverged)) if not (a or b)]
            for m in COLUMNS:
                ours, theirs = r.final(m).tolist(), ref.final(m).tolist()
                stats = paired_difference([ours[k] for k in keep], [theirs[k] for k in keep], margins[m])
                out.append({"spec": name, "backend": backend, "reference": reference, "metric": m, "stats": stats})
    return out


def _paired_cells(s: PairedDifference | None) -> list[str]:
    if s is None:
        return ["0", "n/a", "n/a", "n/a", "n/a", "n/a"]
    ci = "n/a" if math.isnan(s.low) else f"[{s.low:+.2e}, {s.high:+.2e}]"
    margin = f"±{s.margin:.2e}" + (f" ({s.margin_spec})" if s.margin_spec.relative else "")
    return [str(s.n), f"{s.mean:+.2e}", ci, f"{s.max_abs:.1e}", margin, s.verdict]


def paired_table(results: Sequence[RunResult], fmt: str = "github", reference: str = "torch",
                 margins: dict[str, Margin] | None = None) -> str:
    """One row per spec, backend pair and metric; empty when there is nothing to pair."""
    rows = [[p["spec"], f"{p['backend']} - {p['reference']}", LABELS[p["metric"]]] + _paired_cells(p["stats"])
            for p in paired_stats(results, reference, margins)]
    if not rows:
        return ""
    headers = ("spec", "difference", "metric", "pairs", "mean", f"{CONFIDENCE:.0%} CI", "max |d|", "margin",
               "verdict")
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def margins_line(margins: dict[str, Margin], reference: str) -> str:
    parts = [f"{LABELS[m]} ±{margins[m]}" + (f" of {reference}'s mean" if margins[m].relative else "")
             for m in COLUMNS]
    return "margins: " + ", ".join(parts)


# --------------------------------------------------------------------------- printed text of a command
def run_text(result: RunResult, fmt: str = "github") -> str:
    """What ``mininet run`` prints: each repetition's final metrics, then their summary."""
    return repetition_table(result, fmt) + "\n\n" + summary_table([result], fmt)


def runs_text(results: Sequence[RunResult], fmt: str = "github") -> str:
    """What ``mininet run`` prints for one spec or several sweep points: each point's repetitions,
    then (for several) one summary table with a row per point."""
    if len(results) == 1:
        return run_text(results[0], fmt)
    parts = [f"{r.spec_name}:\n{repetition_table(r, fmt)}" for r in results]
    return "\n\n".join(parts) + f"\n\nSummary over the {len(results)} points:\n" + summary_table(results, fmt)


def compare_text(results: Sequence[RunResult], fmt: str = "github", reference: str = "torch",
                 margins: dict[str, Margin] | None = None) -> str:
    """What ``mininet compare`` prints: the report's table, then the paired statistics."""
    margins = DEFAULT_MARGINS if margins is None else margins
    text = summary_table(results, fmt)
    paired = paired_table(results, fmt, reference, margins)
    if paired:
        text += ("\n\nPaired differences of the final metrics (backend - reference, repetition by repetition):"
                 f" mean, {CONFIDENCE:.0%} CI (t distribution), largest |difference|.\n"
                 f"verdict: equivalent = the {CONFIDENCE:.0%} CI lies inside ±margin (TOST, 2.5% per side); "
                 "different = it lies outside; else inconclusive.\n"
                 + margins_line(margins, reference) + "\n" + paired)
    return text
