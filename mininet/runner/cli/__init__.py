"""The ``mininet`` command: a click group with thin subcommands that call library functions.

Each module holds one family of commands (training.py: run, compare, check; specs.py: validate,
render, list, schema, specs, copy; results.py: eval, plot, report; bench.py: bench); what they share is in
options.py, below them all.

Exit codes: 0 success; 1 a failure during training; 2 a bad spec or bad usage.
"""

from __future__ import annotations

import click

from ... import __version__
from . import bench, results, specs, training


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


for _command in (training.run, training.compare, training.check, specs.validate, specs.render, specs.list_,
                 specs.schema, specs.specs_, specs.copy, results.eval_, results.plot, results.report, bench.bench):
    main.add_command(_command)
