"""mininet.runner: TOML experiment specs trained identically on mininet and torch.nn, and compared.

The ``mininet`` command (``python -m mininet``) is :mod:`mininet.runner.cli`; the library itself
never imports this package. See README.md, "Layout", for its rooms.
"""
