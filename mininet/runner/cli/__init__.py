"""The ``mininet`` command: a click group with thin subcommands that call library functions.

Each module holds one family of commands (training.py: run, compare, check; specs.py: validate,
render, list, schema, specs, copy; results.py: eval, sample, plot, report; bench.py: bench); what they share is in
options.py, below them all.

Exit codes: 0 success; 1 a failure during training; 2 a bad spec or bad usage.
"""

from __future__ import annotations

import importlib

import click

from ... import __version__

#: command -> (module of this package, function, the line that ``mininet --help`` shows). A command's
#: module (and so torch) is imported only when the command runs or shows its own help, so that
#: ``mininet --help`` and ``--version`` answer at once.
COMMANDS = {
    "run": ("training", "run", "Train SPEC on one backend."),
    "compare": ("training", "compare", "Train SPECs on both backends and compare them."),
    "check": ("training", "check", "Parity of every gradient of one batch, in float64."),
    "bench": ("bench", "bench", "Time both backends side by side."),
    "validate": ("specs", "validate", "Check spec files (or folders) without training."),
    "render": ("specs", "render", "Print a spec with every default filled in."),
    "list": ("specs", "list_", "List every key and component a spec can name."),
    "schema": ("specs", "schema", "Print the JSON Schema of a spec."),
    "specs": ("specs", "specs_", "List the built-in specs."),
    "copy": ("specs", "copy", "Copy a built-in spec out to edit."),
    "eval": ("results", "eval_", "Evaluate a checkpoint on either backend."),
    "sample": ("results", "sample", "Generate text from a checkpoint on either backend."),
    "plot": ("results", "plot", "Draw the figures of a finished run."),
    "report": ("results", "report", "Print the tables of a finished run again."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when one is used (click's lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, function, summary = COMMANDS[name]
        command = getattr(importlib.import_module(f".{module}", __name__), function)
        command.short_help = summary
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_, _, summary) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mininet")
def main() -> None:
    """mininet: hand-written backpropagation, trained side by side with torch.nn from a TOML spec.

    \b
    Exit codes:
      0  success
      1  a failure during training
      2  a bad spec or bad usage (every problem is listed, with key path and line)
    """
    from .allocator import keep_freed_memory

    keep_freed_memory()  # large per-epoch tensors are reused instead of page-faulted (see allocator.py)

