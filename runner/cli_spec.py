"""Commands about specs, without training: validate, render, list, schema.

Also the pieces the training commands share: the ``--set``/``--sweep``/``--dry-run`` options, loading
every point of every spec (problems on stderr, exit 2), and training points one after another so that
Ctrl-C keeps what is finished.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

import click
from tabulate import tabulate

from .cli import EXIT_FAILURE, EXIT_USAGE, main
from .load import Loaded, Point, SpecError, load_all

SPEC_FILE = click.Path(dir_okay=False, path_type=Path)
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


def load_or_exit(paths: Sequence[Path], sets: Sequence[str] = (), sweeps: Sequence[str] = ()) -> list[Loaded]:
    """Every spec loaded and checked, or every problem of all of them on stderr and exit code 2."""
    try:
        return load_all(paths, sets, sweeps)
    except SpecError as e:
        click.echo(e.report(), err=True)
        sys.exit(EXIT_USAGE)


def points_or_exit(paths: Sequence[Path], sets: Sequence[str] = (), sweeps: Sequence[str] = ()) -> list[Point]:
    return [p for loaded in load_or_exit(paths, sets, sweeps) for p in loaded.points]


def echo_points(points: Sequence[Point]) -> None:
    """The ``--dry-run`` listing: one line per point, with how much training it stands for."""
    rows = [[i + 1, p.label, p.spec.repetitions, p.spec.train.epochs, str(p.base_dir)] for i, p in enumerate(points)]
    click.echo(tabulate(rows, headers=("#", "point", "repetitions", "epochs", "folder"), disable_numparse=True))
    click.echo(f"{len(points)} point{'s' if len(points) != 1 else ''}; nothing trained (--dry-run)")


def train_points(points: Sequence[Point], train: Callable[[Point], list]) -> tuple[list, list[Point]]:
    """``train(point)`` for each point, in order; on Ctrl-C: (results so far, points not finished)."""
    results: list = []
    for i, point in enumerate(points):
        try:
            results += train(point)
        except KeyboardInterrupt:
            return results, list(points[i:])
    return results, []


def report_interrupted(unfinished: Sequence[Point], n_points: int) -> None:
    """After Ctrl-C: say which results are missing, and exit 1."""
    if not unfinished:
        return
    done = n_points - len(unfinished)
    click.echo(f"\nInterrupted (Ctrl-C): the results above are partial, {done} of {n_points} point"
               f"{'s' if n_points != 1 else ''} finished. Stopped during {unfinished[0].label} (its results "
               "are discarded)" + (f"; not started: {', '.join(p.label for p in unfinished[1:])}"
                                   if len(unfinished) > 1 else "") + ".", err=True)
    sys.exit(EXIT_FAILURE)


# --------------------------------------------------------------------------- commands
@main.command()
@click.argument("specs", type=SPEC_FILE, nargs=-1, required=True)
@SET
@SWEEP
def validate(specs: tuple[Path, ...], sets: tuple[str, ...], sweeps: tuple[str, ...]) -> None:
    """Check SPEC files without training: TOML syntax, keys, types, ranges, widths, data files and
    sweeps. Lists every problem of every file (key path and line) and exits 2, or exits 0."""
    for loaded in load_or_exit(specs, sets, sweeps):
        n = len(loaded.points)
        click.echo(f"{loaded.file}: ok" + (f" ({n} sweep points)" if loaded.sweep else ""))


@main.command()
@click.argument("spec", type=SPEC_FILE)
@SET
@SWEEP
@OUT_FILE
def render(spec: Path, sets: tuple[str, ...], sweeps: tuple[str, ...], output: Path | None) -> None:
    """Print SPEC fully resolved: every default filled in and inferred widths written out, as TOML
    that `mininet validate` accepts and that trains exactly as SPEC (with any --set/--sweep applied)."""
    from .files import write_text
    from .render import render as render_text

    (loaded,) = load_or_exit([spec], sets, sweeps)
    text = render_text(loaded, output.parent if output else None)
    if output:
        write_text(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@main.command("list")
@click.argument("kinds", nargs=-1, type=click.Choice(["data", "layer", "init", "loss", "optimizer", "scheduler"]))
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--format", "fmt", default="simple", show_default=True, help="any tabulate format")
def list_(kinds: tuple[str, ...], as_json: bool, fmt: str) -> None:
    """List every data set, layer, init, loss, optimizer and scheduler a spec can name (or only
    KINDS), with its parameters, their defaults and the backends that support it."""
    from . import build as _build  # noqa: F401  (registers every backend's builders)
    from .catalog import WHERE, catalog

    components = [c for c in catalog() if not kinds or c.kind in kinds]
    if as_json:
        click.echo(json.dumps([asdict(c) for c in components], indent=2))
        return
    for kind in dict.fromkeys(c.kind for c in components):
        rows = [[c.type, "\n".join(map(str, c.parameters)) or "-", ", ".join(c.backends) or "none", c.description]
                for c in components if c.kind == kind]
        click.echo(f"{kind} ({WHERE[kind]})")
        click.echo(tabulate(rows, headers=("type", "parameters", "backends", "description"), tablefmt=fmt,
                            maxcolwidths=[None, None, None, 60], disable_numparse=True))
        click.echo()


@main.command()
@OUT_FILE
def schema(output: Path | None) -> None:
    """Print the JSON Schema of a spec (for editors and other tools)."""
    from .files import write_text
    from .spec import Spec

    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema", **Spec.model_json_schema()}
    text = json.dumps(doc, indent=2) + "\n"
    if output:
        write_text(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
