"""Spec -> TOML text with every default filled in: what ``mininet render`` prints.

The rendered text validates, trains exactly as the original (same points, same numbers), and renders
to itself. Inferred widths (``in_features``, ``num_features``, ``normalized_shape``) are written out,
except in a spec whose sweep changes the data or the model, where they could differ from point to point.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from ..data.dataset import data_shape
from .experiment import Spec
from .load import Loaded
from .overrides import KeyPath, format_key, set_path
from .shapes import resolve
from .toml_writer import dumps

HEADER = "# Rendered by `mininet render`: every default filled in.\n"
#: keys of a data table that hold paths relative to the spec's folder
PATH_KEYS = ("path", "test_path")


def spec_document(spec: Spec, base_dir: Path | None = None) -> dict[str, Any]:
    """A spec as a TOML-ready document, widths resolved when ``base_dir`` (for the data) is given."""
    if base_dir is not None:
        spec = resolve(spec, data_shape(spec.data, base_dir)[0])
    doc = _type_first(spec.model_dump(mode="python", exclude_none=True))
    doc.pop("sweep", None)
    return doc


def _type_first(v: Any) -> Any:
    """Tables with their ``type`` key first, as a reader looks for it."""
    if isinstance(v, dict):
        return {k: _type_first(v[k]) for k in sorted(v, key=lambda k: k != "type")}
    if isinstance(v, (list, tuple)):
        return [_type_first(x) for x in v]
    return v


def render_spec(spec: Spec, base_dir: Path | None = None) -> str:
    """One spec (no sweep) as TOML text."""
    return HEADER + dumps(spec_document(spec, base_dir))


def render(loaded: Loaded, out_dir: Path | None = None) -> str:
    """A loaded spec file (with its sweep) as TOML text; ``out_dir``: where the text will be saved,
    so that relative data paths are rewritten to start there."""
    first = loaded.points[0]
    changes_shapes = any(k[0] in ("data", "model") for k in loaded.sweep)
    doc = spec_document(first.spec, None if changes_shapes else first.base_dir)
    doc["name"] = loaded.doc["name"]  # not the first point's "name[key=value,...]"
    # A table whose type is swept keeps the keys written in the file only: the defaults of the
    # first point's type would be unknown keys for the other types.
    for key in loaded.sweep:
        if key[-1] == "type":
            set_path(doc, key[:-1], copy.deepcopy(_get(loaded.doc, key[:-1])))
    if out_dir is not None:
        _rebase(doc.get("data", {}), PATH_KEYS, loaded.base_dir, out_dir)
        _rebase(doc.get("plugins", []), range(len(doc.get("plugins", []))), loaded.base_dir, out_dir)
    if loaded.sweep:
        doc["sweep"] = {format_key(k): v for k, v in loaded.sweep.items()}
    return HEADER + dumps(doc)


def _get(doc: Any, path: KeyPath) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _rebase(table: dict[str, Any] | list, keys: Any, base_dir: Path, out_dir: Path) -> None:
    """Paths relative to the spec's folder (``table[k]`` for ``k`` in ``keys``) made relative to ``out_dir``."""
    for k in keys:
        p = table.get(k) if isinstance(table, dict) else table[k]
        if isinstance(p, str) and not Path(p).is_absolute():
            try:
                table[k] = Path(os.path.relpath(base_dir / p, out_dir.resolve())).as_posix()
            except ValueError:  # another drive (Windows): no relative path exists
                table[k] = str((base_dir / p).resolve())
