"""``python -m runner`` is the ``mininet`` command."""

from .cli import main

main(prog_name="mininet")
