"""What the commands share: exit codes, options, loading specs (every problem on stderr, exit 2),
the Ctrl-C report of a sweep (launch.py trains its points), and the output of ``run`` / ``compare``
(run directory, figures, progress).

The command modules import from here and from the library below; nothing here imports a command.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import click
from tabulate import tabulate

from ..registry import BACKENDS
from ..results.rundir import (RunDirError, SpecEntry, check_run_dir, default_run_dir, link_latest, load_run,
                              save_run)
from ..results.stats import DEFAULT_MARGINS, Margin, parse_margins
from ..results.tracking import TRACKERS, TrackerUnavailable, require, track
from ..spec.builtin import resolve_spec_path
from ..spec.experiment import Spec
from ..spec.load import Loaded, Point, SpecError, load_all, load_spec
from ..train.run import EXECUTORS
from .progress import Progress, work

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

# --------------------------------------------------------------------------- options
class SpecArgument(click.ParamType):
    """A spec file, or the name of a built-in spec (``report/ce_sgd``; ``mininet specs`` lists them)."""

    name = "spec"

    def convert(self, value, param, ctx) -> Path:
        return value if isinstance(value, Path) and value.exists() else resolve_spec_path(value)


SPEC_PATH = SpecArgument()
FORMAT = click.option("--format", "fmt", default="github", show_default=True,
                      help="any tabulate format: github, plain, simple, grid, latex, ...")
EXECUTOR = click.option("--executor", type=click.Choice(EXECUTORS), default="auto", show_default=True,
                        help="vectorized: all repetitions as one computation; sequential: one by one; "
                             "auto: vectorized where the spec allows it")

RUN_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
OUT_FILE = click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                        help="write to this file (whole or not at all) instead of standard output")
SET = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                   help="override a value of the spec, e.g. --set optimizer.lr=0.05 or "
                        "--set model.layers[0].out_features=64 (VALUE is TOML; repeatable)")
SWEEP = click.option("--sweep", "sweeps", multiple=True, metavar="KEY=V1,V2,...",
                     help="train every value of KEY (repeatable: the cartesian product; adds to the "
                          "spec's [sweep] table, replacing the same key)")
DRY_RUN = click.option("--dry-run", is_flag=True, help="list the points that would be trained, and stop")


def point_options(f: Callable) -> Callable:
    """``--set``, ``--sweep`` and ``--dry-run`` for a command that trains specs."""
    return SET(SWEEP(DRY_RUN(f)))


def parse_backends(value: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [n for n in names if n not in BACKENDS]
    if unknown or not names:
        raise click.BadParameter(f"unknown backend {', '.join(unknown) or '(none)'}; choose from {', '.join(BACKENDS)}")
    return names


# --------------------------------------------------------------------------- loading and training specs
def spec_or_exit(path: Path, sets: Sequence[str] = ()) -> tuple[Spec, Path]:
    """The spec (with ``--set`` overrides) and its folder, or the list of problems on stderr and exit 2."""
    try:
        return load_spec(path, sets)
    except SpecError as e:
        click.echo(e.report(), err=True)
        sys.exit(EXIT_USAGE)


def specs_or_exit(paths: Sequence[Path], sets: Sequence[str] = (), sweeps: Sequence[str] = ()) -> list[Loaded]:
    """Every spec loaded and checked, or every problem of all of them on stderr and exit code 2."""
    try:
        return load_all(paths, sets, sweeps)
    except SpecError as e:
        click.echo(e.report(), err=True)
        sys.exit(EXIT_USAGE)


def points_or_exit(paths: Sequence[Path], sets: Sequence[str] = (), sweeps: Sequence[str] = ()) -> list[Point]:
    return [p for loaded in specs_or_exit(paths, sets, sweeps) for p in loaded.points]


def echo_points(points: Sequence[Point]) -> None:
    """The ``--dry-run`` listing: one line per point, with how much training it stands for."""
    rows = [[i + 1, p.label, p.spec.repetitions, p.spec.train.epochs, str(p.base_dir)] for i, p in enumerate(points)]
    click.echo(tabulate(rows, headers=("#", "point", "repetitions", "epochs", "folder"), disable_numparse=True))
    click.echo(f"{len(points)} point{'s' if len(points) != 1 else ''}; nothing trained (--dry-run)")


def report_interrupted(unfinished: Sequence[Point], n_points: int, running: int = 1) -> None:
    """After Ctrl-C: say which results are missing, and exit 1 (``running``: how many of ``unfinished``,
    first, were training; several when sweep points train in parallel)."""
    if not unfinished:
        return
    done = n_points - len(unfinished)
    stopped = ", ".join(p.label for p in unfinished[:max(running, 1)])
    rest = unfinished[max(running, 1):]
    click.echo(f"\nInterrupted (Ctrl-C): the results above are partial, {done} of {n_points} point"
               f"{'s' if n_points != 1 else ''} finished. Stopped during {stopped} "
               f"({'its' if running <= 1 else 'their'} results are discarded)" +
               (f"; not started: {', '.join(p.label for p in rest)}" if rest else "") + ".", err=True)
    sys.exit(EXIT_FAILURE)


# --------------------------------------------------------------------------- failures and output
def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def write_or_echo(text: str, output: Path | None) -> None:
    """``text`` to the ``--output`` file (whole or not at all), else to standard output."""
    if output:
        from ..results.files import write_text

        write_text(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


def plot_module():
    """mininet.runner.results.plot, or exit with the install hint when matplotlib is missing."""
    from ..results import plot

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
    log: tuple[str, ...] = ()  # trackers: tensorboard, mlflow
    directory: Path | None = None
    resumed: bool = False  # writing into a sweep's run directory again (--resume)

    def start(self, specs: Sequence[Spec], n_backends: int, resume: Path | None = None,
              epochs: bool = True) -> Progress:
        """Before training: check the run directory (exit 2 on a problem); the progress reporter.

        ``resume``: a sweep's run directory to write into again; ``epochs``: whether training in this
        process reports its epochs (not when sweep points train in workers)."""
        if self.plot and not self.save:
            fail("--plot saves figures into the run directory; it cannot be used with --no-save")
        if self.plot:
            plot_module()  # fail now, not after the training
        if self.log and not self.save:
            fail("--log writes the tracker's files beside the run directory; it cannot be used with --no-save")
        for tracker in self.log:
            try:
                require(tracker)
            except TrackerUnavailable as e:
                fail(str(e))
        self.resumed = resume is not None
        if resume is not None:
            self.directory = resume
        elif self.save:
            names = [s.name for s in specs]
            self.directory = self.out if self.out is not None else default_run_dir(names)
            try:
                check_run_dir(self.directory, names)
            except RunDirError as e:
                fail(str(e))
        return Progress(work(specs, n_backends), quiet=self.quiet or not epochs, verbose=self.verbose)

    def finish(self, kind: str, entries: Sequence[tuple[Spec, Path, Path | None]], results, text: str, fmt: str,
               backends: Sequence[str], executor: str, extra_files: Sequence[str] = ()) -> None:
        """After training and printing ``text``: write the run directory, then its figures
        (``extra_files``: written there already, e.g. a sweep's points; run.json lists them)."""
        if not self.save:
            return
        specs = [SpecEntry(spec, base, source) for spec, base, source in entries]
        save_run(self.directory, kind, specs, results, text, fmt, margins=self.margins, backends=backends,
                 executor=executor, extra_files=extra_files)
        track(self.log, self.directory, [entry.spec for entry in specs], results, text)
        if self.out is None and not self.resumed:  # a resumed run directory can be anywhere
            link_latest(self.directory)
        if not self.quiet:
            click.echo(f"run directory: {self.directory}", err=True)
        if self.plot:
            for path in plot_module().plot_run(load_run(self.directory)):
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
        click.option("--log", "log", multiple=True, type=click.Choice(TRACKERS),
                     help="also write the run for a tracker (repeatable; optional extras): tensorboard event "
                          "files in RUN_DIR/tensorboard, an MLflow run per spec and backend"),
    ]
    if margins:
        options.append(click.option(
            "--margin", "margins", multiple=True, callback=_margins, metavar="METRIC=VALUE",
            help="equivalence margin, absolute or with % relative to the reference's mean; METRIC is "
                 "train_loss, test_loss, train_acc, test_acc, loss or acc [default: loss=5%, acc=1]"))

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def wrapper(*args, out, no_save, plot, quiet, verbose, log, **kwargs):
            extra = {"margins": kwargs.pop("margins")} if margins else {}
            output = Output(out=out, save=not no_save, plot=plot, quiet=quiet, verbose=verbose, log=log, **extra)
            return command(*args, output=output, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


