"""Key paths, ``--set KEY=VALUE`` overrides and sweeps over a spec's TOML document.

A key path names one value of a spec the way error messages print it: ``model.layers[0].out_features``,
``optimizer.lr``, ``sweep."optimizer.lr"`` (a segment that is not a bare TOML key is quoted). Values
are TOML (``64``, ``0.1``, ``true``, ``"adam"``, ``[0.9, 0.99]``); a bare word that is not TOML, such
as ``adam``, is taken as a string so that ``--set optimizer.type=adam`` works without shell quoting.

A sweep maps key paths to lists of values; its points are the cartesian product, first key slowest,
and each point is the document with those values set.
"""

from __future__ import annotations

import copy
import itertools
import re
import sys
from typing import Any

from .toml_writer import string, value as toml_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KeyPath = tuple  # of str (table keys) and int (array indices)

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_WORD = re.compile(r"^[A-Za-z0-9_.+-]+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+\-\[\]=,]")  # what a spec name may not hold


class OverrideError(ValueError):
    """A key path or value that cannot be parsed or applied; the message says why."""


# --------------------------------------------------------------------------- key paths
def format_key(path: KeyPath) -> str:
    """``("model", "layers", 2, "in_features")`` -> ``model.layers[2].in_features``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            seg = part if _BARE.fullmatch(part) else string(part)
            out += ("." if out else "") + seg
    return out


def parse_key(text: str) -> KeyPath:
    """The inverse of :func:`format_key`; raises :class:`OverrideError` on malformed text."""
    path: list[str | int] = []
    i, n = 0, len(text)
    if not text.strip():
        raise OverrideError("empty key")
    while i < n:
        if text[i] in "\"'":
            end = text.find(text[i], i + 1)
            if end < 0:
                raise OverrideError(f"unclosed quote in key {text!r}")
            path.append(text[i + 1:end])
            i = end + 1
        else:
            m = _BARE.match(text, i)
            if not m:
                raise OverrideError(f"bad key {text!r}: expected a name at position {i + 1}")
            path.append(m.group())
            i = m.end()
        while i < n and text[i] == "[":
            end = text.find("]", i)
            if end < 0 or not text[i + 1:end].isdigit():
                raise OverrideError(f"bad key {text!r}: a list index is [0], [1], ...")
            path.append(int(text[i + 1:end]))
            i = end + 1
        if i < n:
            if text[i] != "." or i + 1 == n:
                raise OverrideError(f"bad key {text!r}: expected '.' or '[' at position {i + 1}")
            i += 1
    return tuple(path)


# --------------------------------------------------------------------------- values
def parse_value(text: str) -> Any:
    """A TOML value, or a bare word (``adam``, ``cross_entropy``) as a string."""
    text = text.strip()
    if not text:
        raise OverrideError("no value after '='")
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError as e:
        if _WORD.match(text):
            return text
        raise OverrideError(f"{text!r} is not a TOML value ({_strip_position(e)})") from None


def parse_values(text: str) -> list[Any]:
    """``V1,V2,...`` -> a list: read as the TOML array ``[V1,V2,...]``, else split at top-level commas."""
    try:
        return tomllib.loads(f"v = [{text}]")["v"]
    except tomllib.TOMLDecodeError:
        return [parse_value(item) for item in _split_commas(text)]


def format_value(v: Any) -> str:
    """A value for a point's name: TOML, but a plain word without quotes and arrays without spaces."""
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(format_value(x) for x in v) + "]"
    return v if isinstance(v, str) and _WORD.match(v) else toml_value(v)


def _split_commas(text: str) -> list[str]:
    items, depth, quote, start = [], 0, "", 0
    for i, c in enumerate(text):
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    return items + [text[start:]]


def _strip_position(e: Exception) -> str:
    return re.sub(r"\s*\(at .*\)$", "", str(e))


def split_assignment(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` -> (KEY, VALUE) as text."""
    key, eq, val = text.partition("=")
    if not eq:
        raise OverrideError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), val


# --------------------------------------------------------------------------- documents
def describe(v: Any) -> str:
    """What a TOML value is, in words: 'a table', 'an array', 'a string', ..."""
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, str):
        return "a string"
    return "a number" if isinstance(v, (int, float)) else f"a {type(v).__name__}"


def set_path(doc: dict[str, Any], path: KeyPath, value: Any, create: bool = True) -> None:
    """Set ``doc[path] = value``; missing tables on the way are created when ``create``.

    An array index must name an existing element. Raises :class:`OverrideError` naming the
    first part of the path that does not fit the document.
    """
    node: Any = doc
    for depth, part in enumerate(path):
        here = format_key(path[:depth]) or "the spec"
        last = depth == len(path) - 1
        if isinstance(part, int):
            if not isinstance(node, list):
                raise OverrideError(f"{here} is {describe(node)}, not an array: cannot take [{part}]")
            if part >= len(node):
                raise OverrideError(f"{here} has {len(node)} element{'s' if len(node) != 1 else ''}: "
                                    f"index [{part}] is out of range")
        else:
            if not isinstance(node, dict):
                raise OverrideError(f"{here} is {describe(node)}, not a table: cannot take key {part!r}")
            if part not in node and not last:
                if not create:
                    raise OverrideError(f"{here} has no key {part!r}"
                                        + (f" (keys: {', '.join(map(str, node))})" if node else ""))
                node[part] = {}
        if last:
            node[part] = value
        else:
            node = node[part]


def grid(sweep: dict[KeyPath, list[Any]]) -> list[dict[KeyPath, Any]]:
    """Every point of a sweep's cartesian product, first key slowest; one empty point without a sweep."""
    keys = list(sweep)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(sweep[k] for k in keys))]


def apply(doc: dict[str, Any], values: dict[KeyPath, Any]) -> dict[str, Any]:
    """A deep copy of ``doc`` with every ``path -> value`` of ``values`` set."""
    out = copy.deepcopy(doc)
    for path, v in values.items():
        set_path(out, path, copy.deepcopy(v))
    return out


def point_label(name: str, values: dict[KeyPath, Any]) -> str:
    """``report[loss.type=mse,optimizer.momentum=0.2]``; just the name for a point of no sweep.

    The label is the point's spec name, so it keeps to the characters a spec name allows (other
    characters of a value become "_").
    """
    if not values:
        return name
    text = ",".join(f"{format_key(k)}={format_value(v)}" for k, v in values.items())
    return name + "[" + _UNSAFE.sub("_", text) + "]"
