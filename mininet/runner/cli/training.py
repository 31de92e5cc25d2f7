"""Commands that train: run, compare, check."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tabulate import tabulate

from ..registry import BACKENDS
from ..results.report import compare_text, runs_text
from ..train.run import run_spec, vectorization_blockers
from .launch import launch_options
from .options import (EXECUTOR, EXIT_FAILURE, FORMAT, SPEC_PATH, echo_points, output_options, parse_backends,
                      point_options, points_or_exit, report_interrupted, spec_or_exit)


def note_sequential(points, executor: str) -> None:
    """Under ``auto``, say on stderr which specs train their repetitions one by one, and why."""
    if executor != "auto":
        return
    for spec in {p.spec.name: p.spec for p in points}.values():
        blockers = vectorization_blockers(spec)
        if spec.repetitions > 1 and blockers:
            click.echo(f"note: {spec.name} trains its {spec.repetitions} repetitions one by one: it has "
                       f"{', '.join(blockers)}", err=True)


@click.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--backend", type=click.Choice(BACKENDS), default="mininet", show_default=True)
@EXECUTOR
@FORMAT
@point_options
@output_options()
@launch_options
def run(spec: Path, backend: str, executor: str, fmt: str, sets, sweeps, dry_run: bool, output, launch) -> None:
    """Train SPEC on one backend; print each repetition's final metrics and their summary, and save
    a run directory (spec, environment, metrics, tables, checkpoints). With a sweep, every point,
    with --launcher/--jobs in worker processes or on a Ray cluster (see docs/sweeps.md)."""
    points = points_or_exit([spec], sets, sweeps)
    if dry_run:
        return echo_points(points)

    def text_of(results: list) -> str:
        return runs_text(results, fmt)

    note_sequential(points, executor)
    sweep = launch.prepare(points, output, "run", (backend,), executor, fmt, text_of)
    with output.start([p.spec for p in points], 1, launch.resume, epochs=sweep.inline) as progress:
        sweep.run(lambda p: run_spec(p.spec, (backend,), executor, p.base_dir, progress=progress.callback(p.label)))
    results = sweep.results()
    if results:
        text = sweep.text(text_of(results))
        click.echo(text)
        output.finish("run", sweep.entries(), results, text, fmt, (backend,), executor, sweep.files())
    report_interrupted(sweep.outcome.unfinished(), len(points), len(sweep.outcome.interrupted))
    sweep.report_failed()
    if all(all(result.diverged) for result in results):
        sys.exit(EXIT_FAILURE)


@click.command()
@click.argument("specs", type=SPEC_PATH, nargs=-1, required=True)
@click.option("--backends", default=",".join(BACKENDS), show_default=True, help="comma-separated backends")
@EXECUTOR
@FORMAT
@point_options
@output_options(margins=True)
@launch_options
def compare(specs: tuple[Path, ...], backends: str, executor: str, fmt: str, sets, sweeps, dry_run: bool,
            output, launch) -> None:
    """Train every SPEC on every backend from the same data, weights and batch order; print the
    report's table (mean (std) over repetitions) and the paired differences between backends with
    95% confidence intervals and equivalence verdicts; save a run directory (--plot: with figures).
    A spec with a sweep gives one row per point and backend; --launcher/--jobs train the points in
    worker processes or on a Ray cluster (see docs/sweeps.md)."""
    names = parse_backends(backends)
    points = points_or_exit(specs, sets, sweeps)
    if dry_run:
        return echo_points(points)

    def text_of(results: list) -> str:
        return compare_text(results, fmt, margins=output.margins)

    note_sequential(points, executor)
    sweep = launch.prepare(points, output, "compare", names, executor, fmt, text_of)
    with output.start([p.spec for p in points], len(names), launch.resume, epochs=sweep.inline) as progress:
        sweep.run(lambda p: run_spec(p.spec, names, executor, p.base_dir, progress=progress.callback(p.label)))
    results = sweep.results()
    if results:
        text = sweep.text(text_of(results))
        click.echo(text)
        output.finish("compare", sweep.entries(), results, text, fmt, names, executor, sweep.files())
    report_interrupted(sweep.outcome.unfinished(), len(points), len(sweep.outcome.interrupted))
    sweep.report_failed()


@click.command()
@click.argument("spec", type=SPEC_PATH)
@FORMAT
def check(spec: Path, fmt: str) -> None:
    """Parity report: one batch of SPEC through both backends from the same weights, in float64.

    Prints the max absolute and relative difference of every layer's output and input gradient, the
    loss, every parameter gradient and every parameter after one optimizer step; exits 1 if any
    exceeds 1e-9.
    """
    from ..measure.parity import TOLERANCE, first_wrong_gradient, parity

    parsed, base = spec_or_exit(spec)
    rows = parity(parsed, base)
    table = [[r.quantity, f"{r.max_abs:.2e}", f"{r.max_rel:.2e}", "ok" if r.ok else "MISMATCH"] for r in rows]
    click.echo(tabulate(table, headers=("quantity", "max abs diff", "max rel diff", f"<= {TOLERANCE:g}"),
                        tablefmt=fmt, disable_numparse=True))
    bad = [r.quantity for r in rows if not r.ok]
    if bad:
        first = first_wrong_gradient(rows)
        if first is not None:
            click.echo(f"first wrong gradient (nearest the loss): {first.quantity}", err=True)
        click.echo(f"parity check failed: {', '.join(bad)}", err=True)
        sys.exit(EXIT_FAILURE)
    click.echo(f"parity check passed: {len(rows)} quantities within {TOLERANCE:g}")
