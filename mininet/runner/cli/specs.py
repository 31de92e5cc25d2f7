"""Commands about specs, without training: validate, render, list, schema; specs and copy (the
built-in specs)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from tabulate import tabulate

from ..spec.builtin import builtin_specs, find_builtin
from .options import OUT_FILE, SET, SPEC_PATH, SWEEP, fail, specs_or_exit, write_or_echo


@click.command()
@click.argument("specs", type=SPEC_PATH, nargs=-1, required=True)
@SET
@SWEEP
def validate(specs: tuple[Path, ...], sets: tuple[str, ...], sweeps: tuple[str, ...]) -> None:
    """Check SPEC files without training: TOML syntax, keys, types, ranges, widths, data files and
    sweeps. Lists every problem of every file (key path and line) and exits 2, or exits 0. A folder
    stands for every .toml file below it."""
    files = [f for path in specs for f in (sorted(path.rglob("*.toml")) if path.is_dir() else [path])]
    if not files:
        fail(f"no .toml file in {', '.join(map(str, specs))}")
    for loaded in specs_or_exit(files, sets, sweeps):
        n = len(loaded.points)
        click.echo(f"{loaded.file}: ok" + (f" ({n} sweep points)" if loaded.sweep else ""))


@click.command()
@click.argument("spec", type=SPEC_PATH)
@SET
@SWEEP
@OUT_FILE
def render(spec: Path, sets: tuple[str, ...], sweeps: tuple[str, ...], output: Path | None) -> None:
    """Print SPEC fully resolved: every default filled in and inferred widths written out, as TOML
    that `mininet validate` accepts and that trains exactly as SPEC (with any --set/--sweep applied)."""
    from ..spec.render import render as render_text

    (loaded,) = specs_or_exit([spec], sets, sweeps)
    write_or_echo(render_text(loaded, output.parent if output else None), output)


@click.command("list")
@click.argument("kinds", nargs=-1, type=click.Choice(["spec", "model", "train", "data", "layer", "init", "loss",
                                                      "optimizer", "scheduler"]))
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--format", "fmt", default="simple", show_default=True, help="any tabulate format")
def list_(kinds: tuple[str, ...], as_json: bool, fmt: str) -> None:
    """List every key a spec can have: the top-level keys, [model] and [train], and every data set,
    layer, init, loss, optimizer and scheduler it can name (or only KINDS), with their parameters,
    defaults and the backends that support them."""
    from .. import train as _train  # noqa: F401  (registers both backends, for the backends column)
    from ..spec.catalog import WHERE, catalog

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


@click.command()
@OUT_FILE
def schema(output: Path | None) -> None:
    """Print the JSON Schema of a spec (for editors and other tools)."""
    from ..spec.experiment import Spec

    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema", **Spec.model_json_schema()}
    write_or_echo(json.dumps(doc, indent=2) + "\n", output)


@click.command("specs")
@click.option("--format", "fmt", default="simple", show_default=True, help="any tabulate format")
def specs_(fmt: str) -> None:
    """List the built-in specs: the report's experiments, examples and benchmarks. Any command that
    takes a SPEC file takes one of these names too (mininet compare report/ce_sgd); `mininet copy NAME`
    writes one out to edit."""
    rows = [[b.name, b.description] for b in builtin_specs()]
    click.echo(tabulate(rows, headers=("name", "description"), tablefmt=fmt, maxcolwidths=[None, 80],
                        disable_numparse=True))


@click.command()
@click.argument("name")
@click.argument("dest", type=click.Path(path_type=Path), default=Path("."))
@click.option("--force", is_flag=True, help="overwrite files that exist")
def copy(name: str, dest: Path, force: bool) -> None:
    """Copy the built-in spec NAME (see `mininet specs`) to DEST, a folder [default: here] or a file
    name, with the data files it names beside it. Existing files are kept unless --force."""
    from ..results.files import atomic_write

    builtin = find_builtin(name)
    if builtin is None:
        fail(f"no built-in spec named {name!r}; `mininet specs` lists them")
    target = dest / builtin.path.name if dest.is_dir() or str(dest).endswith("/") else dest
    copies = [(builtin.path, target)] + [(builtin.path.parent / f, target.parent / f) for f in builtin.data_files()]
    existing = [str(t) for _, t in copies if t.exists()]
    if existing and not force:
        fail(f"{', '.join(existing)} exist{'s' if len(existing) == 1 else ''}; use --force to overwrite")
    for source, to in copies:
        with atomic_write(to, "wb") as f:
            f.write(source.read_bytes())
        click.echo(str(to))
