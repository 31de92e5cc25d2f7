"""Shared by the results tests (run directories, checkpoints, plots, report, progress): tiny specs and runs."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from mininet.runner.cli import main

TINY = """\
name = "{name}"
description = "a tiny spec for tests"
seed = 3
repetitions = {repetitions}
dtype = "{dtype}"

[data]
type = "{data}"
n_train = 200
n_test = 100

[model]
init = {{ weight = "xavier_normal", bias = "zeros" }}
layers = [
{layers}
]

[loss]
type = "mse"

[optimizer]
type = "sgd"
lr = 0.1
momentum = 0.2

[train]
epochs = {epochs}
batch_size = 50
"""
MLP = """\
    { type = "linear", out_features = 8 },
    { type = "relu" },
    { type = "linear", out_features = 2 },"""
#: buffers (running statistics) and a layer that forces the sequential executor
BATCHNORM_DROPOUT = """\
    { type = "linear", out_features = 8 },
    { type = "batch_norm" },
    { type = "relu" },
    { type = "dropout", p = 0.2 },
    { type = "linear", out_features = 2 },"""


def write_spec(folder: Path, name: str = "tiny", *, repetitions: int = 2, epochs: int = 3, dtype: str = "float64",
               data: str = "disk", layers: str = MLP) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(TINY.format(name=name, repetitions=repetitions, epochs=epochs, dtype=dtype, data=data,
                                layers=layers))
    return path


def invoke(*args: str | Path):
    """Run the CLI in-process; stdout and stderr stay apart (result.stdout, result.stderr)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


_CACHE: dict[str, tuple[Path, str]] = {}


def compared(tmp_path_factory) -> tuple[Path, str]:
    """One finished ``compare --out RUN_DIR`` of the tiny spec per test session: (RUN_DIR, its stdout)."""
    if "compare" not in _CACHE:
        folder = tmp_path_factory.mktemp("compare")
        spec = write_spec(folder)
        result = invoke("compare", spec, "--out", folder / "run")
        assert result.exit_code == 0, result.output
        _CACHE["compare"] = (folder / "run", result.stdout)
    return _CACHE["compare"]
