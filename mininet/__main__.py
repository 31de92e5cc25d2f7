"""``python -m mininet`` is the ``mininet`` command (the runner; the library itself needs no command)."""

from .runner.cli import main

main(prog_name="mininet")
