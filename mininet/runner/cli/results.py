"""Commands on results: eval (a checkpoint, on either backend), plot and report (a run directory)."""

from __future__ import annotations

import math
from pathlib import Path

import click
from tabulate import tabulate

from ..registry import BACKENDS
from ..results.checkpoint import CheckpointError, evaluate, read_checkpoint
from ..results.report import COLUMNS, LABELS, compare_text, runs_text
from ..results.rundir import RunDirError, load_run
from ..results.sample import SampleError, sample as sample_text
from .options import RUN_DIR, fail, plot_module, spec_or_exit

# --------------------------------------------------------------------------- eval
def _metric_cells(values: dict[str, float]) -> list[str]:
    return [f"{values[m]:.6f}" if m.endswith("loss") else f"{values[m]:.2f}" for m in COLUMNS]


@click.command("eval")
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
    try:
        ckpt = read_checkpoint(checkpoint)
    except CheckpointError as e:
        fail(str(e))
    spec = base = None
    if spec_path is not None:
        spec, base = spec_or_exit(spec_path)
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


# --------------------------------------------------------------------------- sample
@click.command()
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--backend", type=click.Choice(("all",) + BACKENDS), default="all", show_default=True,
              help="backend to load the parameters into (all: each, and whether their texts agree)")
@click.option("--prompt", default=None, help="the text to continue [default: the text's first character]")
@click.option("--length", type=click.IntRange(min=0), default=200, show_default=True,
              help="characters to generate")
@click.option("--temperature", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="divides the logits before the softmax; 0 takes the most likely character")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the draws")
@click.option("--dtype", type=click.Choice(("float32", "float64")), default=None,
              help="load the parameters in this precision [default: the spec's]")
def sample(checkpoint: Path, backend: str, prompt: str | None, length: int, temperature: float, seed: int,
           dtype: str | None) -> None:
    """Generate text from CHECKPOINT (a .pt file of a run directory) of a next-character model.

    Each character is drawn from the model's output at the last position of the last `context`
    characters, with one seeded uniform number per character: the same seed gives the same text, on
    either backend.
    """
    try:
        ckpt = read_checkpoint(checkpoint)
    except CheckpointError as e:
        fail(str(e))
    backends = BACKENDS if backend == "all" else (backend,)
    try:
        texts = {b: sample_text(ckpt, b, prompt, length, temperature, seed, dtype) for b in backends}
    except SampleError as e:
        fail(f"{checkpoint}: {e}")
    if len(texts) == 1:
        click.echo(next(iter(texts.values())))
        return
    for b, text in texts.items():
        click.echo(f"--- {b}\n{text}")
    values = list(texts.values())
    same = all(t == values[0] for t in values[1:])
    click.echo(f"--- the backends' texts are {'identical' if same else 'different'}")


# --------------------------------------------------------------------------- plot and report
def _load_run_or_exit(run_dir: Path):
    try:
        return load_run(run_dir)
    except RunDirError as e:
        fail(str(e))


@click.command()
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
    plotting = plot_module()
    run = _load_run_or_exit(run_dir)
    try:
        paths = plotting.plot_run(run, out, repetition)
    except ValueError as e:
        fail(str(e))
    for path in paths:
        click.echo(str(path))


@click.command()
@click.argument("run_dir", type=RUN_DIR)
@click.option("--format", "fmt", default=None, help="tabulate format [default: the run's]")
def report(run_dir: Path, fmt: str | None) -> None:
    """Print the tables of a finished run (RUN_DIR) again, exactly as the run printed them; for a
    sweep, also the table of its points (done, failed or not finished)."""
    from ..sweep.rundir import SWEEP_FILE, read_state
    from ..sweep.summary import points_text

    run = _load_run_or_exit(run_dir)
    fmt = fmt or run.meta["table_format"]
    if run.meta["kind"] == "compare":
        text = compare_text(run.results, fmt, run.meta["reference"], run.margins)
    else:
        text = runs_text(run.results, fmt)
    if (run_dir / SWEEP_FILE).is_file():
        try:
            text += "\n\n" + points_text(read_state(run_dir), fmt)
        except RunDirError as e:
            fail(str(e))
    click.echo(text)
