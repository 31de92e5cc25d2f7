"""Commands on results: eval (a checkpoint, on either backend), plot and report (a run directory);
and the output options of ``run`` and ``compare`` (run directory, figures, progress)."""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import click
from tabulate import tabulate

from .checkpoint import CheckpointError, evaluate, read_checkpoint
from .cli import EXIT_USAGE, main
from .progress import Progress, work
from .registry import BACKENDS
from .report import COLUMNS, LABELS, compare_text, run_text
from .rundir import RunDirError, SpecEntry, check_run_dir, default_run_dir, load_run, save_run
from .spec import Spec
from .stats import DEFAULT_MARGINS, Margin, parse_margins

RUN_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _plot_module():
    """runner.plot, or exit with the install hint when matplotlib is missing."""
    from . import plot

    try:
        plot._figure(1, 1)
    except plot.PlotUnavailable as e:
        fail(str(e))
    return plot


# --------------------------------------------------------------------------- options of run and compare
@dataclass
class Output:
    """What ``run``/``compare`` do besides training: save a run directory, plot it, show progress."""

    out: Path | None = None
    save: bool = True
    plot: bool = False
    quiet: bool = False
    verbose: bool = False
    margins: dict[str, Margin] = field(default_factory=lambda: dict(DEFAULT_MARGINS))
    directory: Path | None = None

    def start(self, specs: Sequence[Spec], n_backends: int) -> Progress:
        """Before training: check the run directory (exit 2 on a problem); the progress reporter."""
        if self.plot and not self.save:
            fail("--plot saves figures into the run directory; it cannot be used with --no-save")
        if self.plot:
            _plot_module()  # fail now, not after the training
        if self.save:
            names = [s.name for s in specs]
            self.directory = self.out if self.out is not None else default_run_dir(names)
            try:
                check_run_dir(self.directory, names)
            except RunDirError as e:
                fail(str(e))
        return Progress(work(specs, n_backends), quiet=self.quiet, verbose=self.verbose)

    def finish(self, kind: str, entries: Sequence[tuple[Spec, Path, Path | None]], results, text: str, fmt: str,
               backends: Sequence[str], executor: str) -> None:
        """After training and printing ``text``: write the run directory, then its figures."""
        if not self.save:
            return
        specs = [SpecEntry(spec, base, source) for spec, base, source in entries]
        save_run(self.directory, kind, specs, results, text, fmt, margins=self.margins, backends=backends,
                 executor=executor)
        if not self.quiet:
            click.echo(f"run directory: {self.directory}", err=True)
        if self.plot:
            for path in _plot_module().plot_run(load_run(self.directory)):
                if not self.quiet:
                    click.echo(f"figure: {path}", err=True)


def _margins(ctx, param, values: tuple[str, ...]) -> dict[str, Margin]:
    try:
        return parse_margins(values)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def output_options(margins: bool = False) -> Callable:
    """Adds --out, --no-save, --plot, --quiet, --verbose (and --margin) to a command; it receives ``output``."""
    options = [
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="run directory to write [default: runs/<spec-name>-<timestamp>]"),
        click.option("--no-save", is_flag=True, help="write no run directory"),
        click.option("--plot", is_flag=True, help="also draw the figures into the run directory (needs matplotlib)"),
        click.option("--quiet", "-q", is_flag=True, help="no progress bar and no file names on stderr"),
        click.option("--verbose", "-v", is_flag=True, help="one progress line per epoch on stderr instead of a bar"),
    ]
    if margins:
        options.append(click.option(
            "--margin", "margins", multiple=True, callback=_margins, metavar="METRIC=VALUE",
            help="equivalence margin, absolute or with % relative to the reference's mean; METRIC is "
                 "train_loss, test_loss, train_acc, test_acc, loss or acc [default: loss=5%, acc=1]"))

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def wrapper(*args, out, no_save, plot, quiet, verbose, **kwargs):
            extra = {"margins": kwargs.pop("margins")} if margins else {}
            output = Output(out=out, save=not no_save, plot=plot, quiet=quiet, verbose=verbose, **extra)
            return command(*args, output=output, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


# --------------------------------------------------------------------------- eval
def _metric_cells(values: dict[str, float]) -> list[str]:
    return [f"{values[m]:.6f}" if m.endswith("loss") else f"{values[m]:.2f}" for m in COLUMNS]


@main.command("eval")
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="spec whose data to evaluate on [default: the spec saved in the checkpoint]")
@click.option("--backend", type=click.Choice(("all",) + BACKENDS), default="all", show_default=True,
              help="backend to load the parameters into")
@click.option("--repetition", type=click.IntRange(min=0), default=None,
              help="repetition whose data set to draw [default: the one the checkpoint was trained on]")
@click.option("--format", "fmt", default="github", show_default=True, help="any tabulate format")
def eval_(checkpoint: Path, spec_path: Path | None, backend: str, repetition: int | None, fmt: str) -> None:
    """Evaluate a saved model (CHECKPOINT, a .pt file of a run directory) on its spec's data.

    The parameters load into either backend: a model trained by mininet evaluates identically in
    torch.nn and vice versa. Prints loss and accuracy on the training and test sets per backend and
    the values recorded at the end of training.
    """
    from .cli_run import load_or_exit  # not at the top: cli_run imports this module

    try:
        ckpt = read_checkpoint(checkpoint)
    except CheckpointError as e:
        fail(str(e))
    spec = base = None
    if spec_path is not None:
        spec, base = load_or_exit(spec_path)
    backends = BACKENDS if backend == "all" else (backend,)
    try:
        results = {b: evaluate(ckpt, b, spec, base, repetition) for b in backends}
    except (RuntimeError, ValueError, KeyError) as e:  # e.g. a --spec whose model does not fit the parameters
        fail(f"cannot evaluate {checkpoint} with this spec: {e}")
    rows = [[b] + _metric_cells(v) for b, v in results.items()]
    rows.append([f"recorded at training ({ckpt.backend})"] + _metric_cells(ckpt.final_metrics))
    k = ckpt.repetition if repetition is None else repetition
    click.echo(f"{ckpt.spec_name}, trained by {ckpt.backend}, repetition {ckpt.repetition}; "
               f"data of repetition {k}" + (f" of {spec_path}" if spec_path else ""))
    click.echo(tabulate(rows, headers=("evaluated by", *(LABELS[m] for m in COLUMNS)), tablefmt=fmt,
                        disable_numparse=True))
    if len(results) > 1:
        values = list(results.values())
        diff = max(abs(v[m] - values[0][m]) for v in values[1:] for m in COLUMNS
                   if not (math.isnan(v[m]) and math.isnan(values[0][m])))
        click.echo(f"largest difference between backends: {diff:.1e}")


# --------------------------------------------------------------------------- plot and report
def _load_run_or_exit(run_dir: Path):
    try:
        return load_run(run_dir)
    except RunDirError as e:
        fail(str(e))


@main.command()
@click.argument("run_dir", type=RUN_DIR)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder for the figures [default: RUN_DIR/figures]")
@click.option("--repetition", type=click.IntRange(min=0), default=0, show_default=True,
              help="repetition whose models draw the decision boundaries")
def plot(run_dir: Path, out: Path | None, repetition: int) -> None:
    """Draw the figures of a finished run (RUN_DIR), as PNG and SVG.

    \b
    <spec>-curves:   the report's Figure 2 -- loss and accuracy per epoch, train and test, one colour
                     per backend (mininet red, torch.nn blue), each repetition faint, the mean bold
    <spec>-boundary: for 2-D data, each backend's predicted class over the plane, side by side
    """
    plot_module = _plot_module()
    run = _load_run_or_exit(run_dir)
    try:
        paths = plot_module.plot_run(run, out, repetition)
    except ValueError as e:
        fail(str(e))
    for path in paths:
        click.echo(str(path))


@main.command()
@click.argument("run_dir", type=RUN_DIR)
@click.option("--format", "fmt", default=None, help="tabulate format [default: the run's]")
def report(run_dir: Path, fmt: str | None) -> None:
    """Print the tables of a finished run (RUN_DIR) again, exactly as the run printed them."""
    run = _load_run_or_exit(run_dir)
    fmt = fmt or run.meta["table_format"]
    if run.meta["kind"] == "compare":
        text = compare_text(run.results, fmt, run.meta["reference"], run.margins)
    else:
        text = "\n\n".join(run_text(r, fmt) for r in run.results)
    click.echo(text)
