"""The ``mininet`` command: a click group with thin subcommands that call library functions.

Exit codes: 0 success; 1 a failure during training; 2 a bad spec or bad usage.
"""

from __future__ import annotations

import click

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mininet")
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


def _register() -> None:
    # Each file holds one family of commands; importing it adds them to the group.
    from . import cli_run  # noqa: F401
    from . import cli_spec  # noqa: F401
    from . import cli_results  # noqa: F401
    from . import cli_bench  # noqa: F401


_register()
