"""`mininet --help` and `--version` answer without importing torch; every listed command loads."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from mininet.runner.cli import COMMANDS, main

PROBE = """
import sys
from mininet.runner.cli import main
try:
    main([{arg!r}], prog_name="mininet")
except SystemExit:
    pass
print("torch imported" if "torch" in sys.modules else "no torch")
"""


def test_help_and_version_import_no_torch():
    for arg in ("--help", "--version"):
        out = subprocess.run([sys.executable, "-c", PROBE.format(arg=arg)], capture_output=True, text=True, check=True)
        assert out.stdout.strip().endswith("no torch"), out.stdout


def test_every_listed_command_loads_with_its_summary():
    ctx = click.Context(main)
    help_text = CliRunner().invoke(main, ["--help"]).output
    for name, (_, _, summary) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name
        assert command.get_short_help_str(limit=200) == summary and summary in help_text
    assert main.get_command(ctx, "nope") is None
    unknown = CliRunner().invoke(main, ["nope"])
    assert unknown.exit_code == 2 and "No such command 'nope'" in unknown.output
    assert "Usage: main run [OPTIONS] SPEC" in CliRunner().invoke(main, ["run", "--help"]).output
