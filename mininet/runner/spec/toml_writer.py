"""A small TOML writer for spec documents (the standard library reads TOML but does not write it).

It writes what a spec holds -- tables, strings, booleans, integers, floats, arrays and tables in
arrays -- in the layout of the shipped specs: top-level values first, then one ``[table]`` per
top-level table, the tables inside it inline, arrays of tables as one inline table per line. ``None`` has no TOML
spelling, so a key whose value is ``None`` is left out (every such key of a spec defaults to ``None``).
"""

from __future__ import annotations

import math
import re
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dumps(doc: dict[str, Any]) -> str:
    """``doc`` as TOML text that ``tomllib.loads`` reads back to an equal document."""
    out: list[str] = []
    _table(doc, (), out)
    return "\n".join(out).lstrip("\n") + "\n"


def key(k: str) -> str:
    """A key as TOML spells it: bare when it can be, quoted otherwise."""
    return k if _BARE_KEY.match(k) else string(k)


def dotted(path: tuple[str, ...]) -> str:
    return ".".join(key(k) for k in path)


def _table(table: dict[str, Any], path: tuple[str, ...], out: list[str]) -> None:
    # top-level tables get a [header]; the tables inside them are written inline
    subtables = {k: v for k, v in table.items() if isinstance(v, dict) and v} if not path else {}
    values = {k: v for k, v in table.items() if k not in subtables and v is not None}
    if path and (values or not subtables):
        out += ["", f"[{dotted(path)}]"]
    out += [f"{key(k)} = {value(v, multiline=True)}" for k, v in values.items()]
    for k, v in subtables.items():
        _table(v, path + (k,), out)


def value(v: Any, multiline: bool = False) -> str:
    """One value, inline; an array of tables spreads over one line per element when ``multiline``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)  # shortest text that reads back to the same double; always has "." or "e"
    if isinstance(v, str):
        return string(v)
    if isinstance(v, dict):
        items = [f"{key(k)} = {value(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(v, (list, tuple)):
        items = [value(x) for x in v]
        if multiline and any(isinstance(x, dict) for x in v):
            return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
        return "[" + ", ".join(items) + "]"
    raise TypeError(f"cannot write {type(v).__name__} {v!r} as TOML")


def string(s: str) -> str:
    """A basic (double-quoted) string with TOML's escapes."""
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)
