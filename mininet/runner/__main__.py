"""``python -m mininet`` is the ``mininet`` command."""

from .cli import main

main(prog_name="mininet")
