"""The specs shipped inside the package (the report's experiments, examples, benchmarks), by name.

A built-in spec's name is its path under ``mininet/runner/specs/`` without ``.toml``
(``report/ce_sgd``); wherever a command takes a spec file it takes such a name too, so the installed
package runs the report from any folder. ``mininet specs`` lists them, ``mininet copy`` writes one out
(with the data files it names) to edit.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: where the package keeps them (a folder on disk: the package is installed unzipped)
ROOT = Path(str(files("mininet.runner") / "specs"))
#: spec keys that name other files, relative to the spec's folder
FILE_KEYS = ("path", "test_path")


@dataclass(frozen=True)
class Builtin:
    name: str  # e.g. "report/ce_sgd"
    path: Path
    description: str  # the spec's description, or its name when it has none

    def data_files(self) -> list[Path]:
        """The files the spec's [data] table names (a CSV data set), as paths relative to its folder."""
        data = tomllib.loads(self.path.read_text(encoding="utf-8")).get("data", {})
        return [Path(data[key]) for key in FILE_KEYS if isinstance(data.get(key), str)]


def _describe(path: Path) -> str:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    return " ".join(str(doc.get("description") or doc.get("name", "")).split())


def builtin_specs() -> list[Builtin]:
    """Every built-in spec, sorted by name."""
    paths = sorted(ROOT.rglob("*.toml"))
    return [Builtin(p.relative_to(ROOT).with_suffix("").as_posix(), p, _describe(p)) for p in paths]


def find_builtin(name: str) -> Builtin | None:
    """The built-in spec called ``name`` (``report/ce_sgd`` or ``report/ce_sgd.toml``), if there is one."""
    stem = name[:-5] if name.endswith(".toml") else name
    return next((b for b in builtin_specs() if b.name == stem), None)


def resolve_spec_path(value: str | Path) -> Path:
    """A spec argument as a file: the path itself when it exists, else the built-in spec of that name,
    else the path unchanged (reading it then says that there is no such file)."""
    path = Path(value)
    if path.exists():
        return path
    builtin = find_builtin(str(value))
    return builtin.path if builtin is not None else path
