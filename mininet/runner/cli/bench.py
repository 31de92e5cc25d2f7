"""The bench command: both backends timed side by side in one process."""

from __future__ import annotations

from pathlib import Path

import click
import torch
from tabulate import tabulate

from .options import FORMAT, SET, SPEC_PATH, spec_or_exit


@click.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(1), help="timed rounds per case")
@click.option("--repetitions", type=click.IntRange(1), help="replicas for the multi-run case [spec's]")
@click.option("--epochs", type=click.IntRange(1), help="shorten the runs [spec's]")
@click.option("--steps", default=200, show_default=True, type=click.IntRange(1),
              help="training steps per step-time measurement")
@click.option("--threads", type=click.IntRange(1), help="torch threads for both backends [torch's default]")
@click.option("--no-memory", is_flag=True, help="skip the peak-memory pass")
@SET
@FORMAT
def bench(spec: Path, repeats: int, repetitions: int | None, epochs: int | None, steps: int,
          threads: int | None, no_memory: bool, sets: tuple[str, ...], fmt: str) -> None:
    """Time SPEC on both backends side by side: one run, and all repetitions at once.

    Medians of REPEATS interleaved rounds after a warm-up; time per case includes the per-epoch
    evaluation; time per step is forward + loss + backward + optimizer step on one batch. Ratios are
    mininet / torch (below 1: mininet is faster). With --set device=cuda it times a GPU.
    """
    from ..measure.bench import HEADERS, benchmark, environment_line, table_rows

    if threads:
        torch.set_num_threads(threads)
    parsed, base = spec_or_exit(spec, sets)
    if epochs:
        parsed = parsed.model_copy(update={"train": parsed.train.model_copy(update={"epochs": epochs})})
    timings = benchmark(parsed, base, repeats=repeats, repetitions=repetitions, steps=steps,
                        memory=not no_memory, log=lambda m: click.echo(m, err=True))
    click.echo(f"{parsed.name}: {environment_line(parsed)}, median of {repeats}")
    click.echo(tabulate(table_rows(timings), headers=HEADERS, tablefmt=fmt, disable_numparse=True))
