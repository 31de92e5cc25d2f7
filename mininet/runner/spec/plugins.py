"""Plugins: a user's Python file that registers spec components (a hand-written layer and how each
backend builds it), so that a spec can name them without editing the runner.

A spec names its plugins in a top-level key, relative to the spec's folder::

    plugins = ["softsign.py"]

Installed packages can offer plugins too, through the entry-point group ``mininet.plugins`` (each
entry point names a module to import). A plugin registers with the decorators of
:mod:`mininet.runner.registry`: ``spec_component("layer")`` on a spec class and, for a backend that
has no class of the name the spec ``builds``, ``builder(backend, "layer", type)``. Each file is
imported once per process; the spec's tagged unions are then refreshed to accept its types.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from .experiment import refresh_unions

ENTRY_POINT_GROUP = "mininet.plugins"
_loaded: dict[str, ModuleType] = {}  # by the file's content: a copy of a loaded plugin is that plugin
_entry_points_loaded = False


class PluginError(Exception):
    """A plugin that cannot be found or raised while being imported; says which and why."""


def load_plugin(path: Path) -> ModuleType:
    """Import the plugin file at ``path`` (once per process, also when copies of it are named) and
    refresh the spec's unions."""
    path = path.resolve()
    if not path.is_file():
        raise PluginError(f"plugin {path}: file not found")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest in _loaded:
        return _loaded[digest]
    name = f"mininet_plugin_{path.stem}_{digest[:12]}"  # unique: two plugins may share a file name
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as e:  # the user's code: report where it failed, in one line
        del sys.modules[name]
        frame = traceback.extract_tb(e.__traceback__)[-1]
        raise PluginError(f"plugin {path} raised {type(e).__name__}: {e} (line {frame.lineno})") from None
    _loaded[digest] = module
    refresh_unions()
    return module


def load_entry_point_plugins() -> None:
    """Import every installed package's ``mininet.plugins`` entry point (once per process)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    found = list(entry_points(group=ENTRY_POINT_GROUP))
    for ep in found:
        try:
            ep.load()
        except Exception as e:
            raise PluginError(f"plugin {ep.name} ({ep.value}) raised {type(e).__name__}: {e}") from None
    if found:
        refresh_unions()
