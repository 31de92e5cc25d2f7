"""The two backends: each registers where its classes live and its trainers in the registry.

Importing this package registers both; ``mininet.runner.train`` does so, so that building finds them
through the registry and never imports a backend itself.
"""

from . import mininet, torch  # noqa: F401
