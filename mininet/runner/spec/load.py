"""TOML text -> validated specs, or a :class:`SpecError` listing every problem at once.

Loading a spec file goes through four stages, and each stage reports all it finds:

1. the file: missing, a folder, not UTF-8, empty, malformed TOML (line and column);
2. overrides: ``--set KEY=VALUE`` and the sweep (the spec's ``sweep`` table and ``--sweep``), whose
   key paths must parse and, for sweeps, name a place that exists in the spec;
3. every point of the sweep (one point without a sweep) is validated by the pydantic models of
   :mod:`mininet.runner.spec` (its models) -- unknown keys and types with a "did you mean", types and ranges;
4. the static checks of :mod:`mininet.runner.spec.checks` -- widths, data file, inits.

Each :class:`Problem` carries the key path (``model.layers[2].in_features``) and the TOML line of
that key, or of its nearest parent when the key is not written (a missing or default value); a value
that came from ``--set``/``--sweep`` names the override instead. Nothing is drawn or built, apart from
reading a CSV data file to check its columns.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..registry import REGISTRY
from .checks import check_parts, check_spec
from .experiment import ModelSpec, Spec
from .overrides import (KeyPath, OverrideError, apply, describe, format_key, grid,
                        parse_key, parse_value, parse_values, point_label, set_path, split_assignment)
from .plugins import PluginError, load_entry_point_plugins, load_plugin
from .toml_lines import key_lines, line_of
from .toml_writer import value as toml_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec: where (file, key path, line) and what."""

    file: str
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class SpecError(Exception):
    """A spec that cannot be used; ``problems`` holds every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def report(self) -> str:
        n = len(self.problems)
        files = sorted({p.file for p in self.problems})
        where = files[0] if len(files) == 1 else f"{len(files)} spec files"
        head = f"{n} problem{'s' if n != 1 else ''} in {where}:"
        return "\n".join([head] + [f"  {p}" for p in self.problems])


@dataclass(frozen=True)
class Point:
    """One configuration to train: a validated spec (no sweep left in it) and its readable name."""

    spec: Spec
    base_dir: Path  # where the spec's relative paths start
    label: str  # the spec's name, plus "[key=value,...]" for a point of a sweep (spec.name is the same)
    values: dict[KeyPath, Any] = field(default_factory=dict)  # this point's swept values
    file: Path | None = None  # the spec file it comes from


@dataclass
class Loaded:
    """A spec file after overrides: its document, its sweep and the validated points."""

    file: Path
    base_dir: Path
    doc: dict[str, Any]  # the TOML document with --set applied, without its sweep table
    sweep: dict[KeyPath, list[Any]]  # the spec's sweep merged with --sweep
    points: list[Point]


# --------------------------------------------------------------------------- stage 1: the file
def read_text(path: Path) -> str:
    """The spec file's text, or a :class:`SpecError` saying why there is none."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError([Problem(file, "", "file not found (`mininet specs` lists the built-in specs, which can be "
                                           "named instead of a file, e.g. report/ce_sgd)")]) from None
    except IsADirectoryError:
        raise SpecError([Problem(file, "", "is a directory, not a spec file")]) from None
    except OSError as e:
        raise SpecError([Problem(file, "", f"cannot read: {e.strerror or e}")]) from None
    if b"\0" in raw:
        raise SpecError([Problem(file, "", "a binary file, not TOML text")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise SpecError([Problem(file, "", f"not UTF-8 text (byte {e.start}); a spec is a UTF-8 TOML file",
                                 line)]) from None
    if not text.strip():
        raise SpecError([Problem(file, "", "empty file: " + _NEEDS)])
    return text


_NEEDS = "a spec needs at least name, data, model, loss, optimizer and train (see `mininet list` and specs/)"


def parse_toml(text: str, file: str = "<spec>") -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if m:
            line = int(m.group(1))
            message = f"malformed TOML: {message[:m.start()]} (column {m.group(2)})"
        else:  # "(at end of document)"
            line = text.count("\n") + 1
            message = "malformed TOML: " + re.sub(r"\s*\(at end of document\)$", " at the end of the file", message)
        raise SpecError([Problem(file, "", message, line)]) from None


def read_toml(path: Path) -> dict[str, Any]:
    return parse_toml(read_text(Path(path)), str(path))


# --------------------------------------------------------------------------- stage 3: pydantic's errors
def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _tag(model: type[BaseModel]) -> Any:
    f = model.model_fields.get("type")
    return None if f is None else f.default


def _walk(loc: Sequence[Any]) -> tuple[KeyPath, list[type[BaseModel]]]:
    """pydantic's error location -> (key path without union tags, the models that can stand there)."""
    models: list[type[BaseModel]] = [Spec]
    path: list[Any] = []
    for part in loc:
        if isinstance(part, int):
            path.append(part)
            continue
        # in a union, a member's tag comes first: not a key of the document (though some member
        # may have a field of that name, as the recurrent layers' dropout)
        tagged = [m for m in models if _tag(m) == part] if len(models) > 1 else []
        owners = [m for m in models if part in m.model_fields]
        if tagged:
            models = tagged
        elif owners:
            models = [c for m in owners for c in _models_in(m.model_fields[part].annotation)]
            path.append(part)
        else:
            path.append(part)
            models = []
    return tuple(path), models


def _kind(models: list[type[BaseModel]]) -> str:
    kinds = {kind for (kind, _), cls in REGISTRY.specs.items() if cls in models}
    return kinds.pop() if len(kinds) == 1 else "component"


def did_you_mean(word: Any, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(v: Any) -> str:
    """A value in a message: as TOML, or in words when it is long or not a plain value."""
    try:
        text = toml_value(v)
    except TypeError:
        text = repr(v)
    if len(text) > 60:
        return describe(v)
    if isinstance(v, (dict, list)):
        return f"{describe(v)} {text}"
    return text


_PHRASES = (("Input should be ", "must be "), ("a valid dictionary", "a table"), ("an object", "a table"),
            ("a valid list", "an array"), ("a valid array", "an array"), ("a valid tuple", "an array"),
            ("a valid integer", "an integer"), ("a valid number", "a number"), ("a valid string", "a string"),
            ("a valid boolean", "a boolean (true or false)"), ("List should have", "must have"),
            ("Tuple should have", "must have"), ("String should", "must"), (" after validation", ""),
            ("Value error, ", ""))


def _message(err: dict[str, Any], models: list[type[BaseModel]]) -> tuple[str, bool]:
    """(message, whether the offending key is the table's ``type``) for one pydantic error."""
    kind, loc = err["type"], err["loc"]
    if kind == "missing" and loc and isinstance(loc[-1], int):  # a fixed-length array (tuple) too short
        return f"too few values: element [{loc[-1]}] is missing, got {_show(err['input'])}", False
    if kind == "missing":
        return "required key is missing", False
    if kind == "extra_forbidden":
        parent_models = _walk(loc[:-1])[1]
        valid = [f for m in parent_models for f in m.model_fields]
        return (f"unknown key {loc[-1]!r}{did_you_mean(loc[-1], valid)}; valid keys here: {', '.join(valid)}",
                False)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        what = _kind(models)
        tags = [str(_tag(m)) for m in models]
        if kind == "union_tag_not_found":
            return f"missing: every {what} needs a type, one of {', '.join(tags)}", True
        given = err["ctx"]["tag"]
        return (f"unknown {what} type {given!r}{did_you_mean(given, tags)}; valid types: {', '.join(tags)}",
                True)
    message = err["msg"]
    for old, new in _PHRASES:
        message = message.replace(old, new)
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", err["ctx"]["expected"])
        return f"must be one of {', '.join(options)}, got {_show(err['input'])}{did_you_mean(err['input'], options)}", False
    if "input" in err:
        message += f", got {_show(err['input'])}"
    return message, False


def pydantic_findings(e: ValidationError) -> list[tuple[KeyPath, str]]:
    """A pydantic ValidationError -> (key path, message) per error, union tags left out of the paths."""
    out = []
    for err in e.errors():
        path, models = _walk(err["loc"])
        message, at_type = _message(err, models)
        if err["type"] == "missing" and path and isinstance(path[-1], int):
            path = path[:-1]  # the array that is too short
        out.append((path + ("type",) if at_type else path, message))
    return out


def key_path(loc: tuple[Any, ...]) -> str:
    """pydantic's error location -> ``model.layers[2].in_features`` (union tags left out)."""
    return format_key(_walk(loc)[0])


def _validate_doc(doc: dict[str, Any]) -> Spec:
    # strict, from JSON: a TOML string is never taken for a number nor a float for an integer,
    # while TOML arrays still fill tuples (betas); dates become strings and are then rejected
    return Spec.model_validate_json(json.dumps(doc, default=str), strict=True)


_PARTS = ("data", "model", "loss")


def _valid_part(doc: dict[str, Any], name: str) -> Any:
    # the field's type as it is now: a plugin may have widened the unions since import
    adapter = TypeAdapter(ModelSpec if name == "model" else Spec.model_fields[name].annotation)
    try:
        return adapter.validate_json(json.dumps(doc.get(name), default=str), strict=True)
    except ValidationError:
        return None


def load_plugins(doc: dict[str, Any], base_dir: Path) -> list[tuple[KeyPath, str]]:
    """Import the plugin files a document names (relative to ``base_dir``) before it is validated, so
    that it may use their types; what cannot be imported is a finding at its key."""
    load_entry_point_plugins()
    names = doc.get("plugins")
    if not isinstance(names, list):
        return []  # absent, or not a list: pydantic says so
    findings = []
    for i, name in enumerate(names):
        if isinstance(name, str):
            try:
                load_plugin(base_dir / name)
            except PluginError as e:
                findings.append((("plugins", i), str(e)))
    return findings


def check_doc(doc: dict[str, Any], base_dir: Path = Path(".")) -> tuple[Spec | None, list[tuple[KeyPath, str]]]:
    """Validate one document and run the static checks that its valid parts allow: (spec or None, findings)."""
    plugin_findings = load_plugins(doc, base_dir)
    try:
        spec = _validate_doc(doc)
    except ValidationError as e:
        parts = {name: _valid_part(doc, name) for name in _PARTS}
        return None, plugin_findings + pydantic_findings(e) + check_parts(parts["data"], parts["model"],
                                                                          parts["loss"], base_dir)
    return spec, plugin_findings + check_spec(spec, base_dir)


def validate(doc: dict[str, Any], file: str = "<spec>", lines: dict | None = None,
             base_dir: Path | None = None, plugin_dir: Path | None = None) -> Spec:
    """A document -> Spec, or a SpecError with every problem (static checks too when ``base_dir`` is
    given). Plugin paths start at ``base_dir``, else ``plugin_dir``, else the current folder."""
    if base_dir is None:
        findings = load_plugins(doc, plugin_dir or Path.cwd())
        try:
            spec = _validate_doc(doc)
            if not findings:
                return spec
        except ValidationError as e:
            findings += pydantic_findings(e)  # every problem at once, as check_doc reports them
    else:
        spec, findings = check_doc(doc, base_dir)
        if spec is not None and not findings:
            return spec
    lines = lines or {}
    raise SpecError(_sorted([Problem(file, format_key(k), m, line_of(lines, k)) for k, m in findings]))


# --------------------------------------------------------------------------- stage 2: overrides and sweeps
@dataclass(frozen=True)
class _Origin:
    """Where a value that replaces the file's came from: an override or a sweep entry."""

    key: KeyPath
    text: str  # e.g. "--set optimizer.lr=0.5" or 'sweep."optimizer.lr"'
    line: int | None  # the sweep table's line for the spec's own sweep, else None


def _apply_sets(doc: dict[str, Any], sets: Sequence[str], file: str,
                problems: list[Problem]) -> list[_Origin]:
    origins = []
    for raw in sets:
        key_text = ""
        try:
            key_text, value_text = split_assignment(raw)
            key = parse_key(key_text)
            if key[0] == "sweep":
                raise OverrideError("use --sweep KEY=V1,V2,... to add to the sweep")
            set_path(doc, key, parse_value(value_text))
        except OverrideError as e:
            problems.append(Problem(file, key_text, f"{e} (in --set {raw})"))
        else:
            origins.append(_Origin(key, f"--set {raw}", None))
    return origins


def _read_sweep(doc: dict[str, Any], sweeps: Sequence[str], file: str, lines: dict,
                problems: list[Problem]) -> tuple[dict[KeyPath, list[Any]], dict[KeyPath, _Origin]]:
    """The spec's ``sweep`` table merged with ``--sweep`` options (which replace the same key)."""
    sweep: dict[KeyPath, list[Any]] = {}
    origins: dict[KeyPath, _Origin] = {}
    table = doc.pop("sweep", {})
    entries: list[tuple[str, Any, _Origin | None]] = []
    if not isinstance(table, dict):
        problems.append(Problem(file, "sweep", f"must be a table of key path = [values], got {_show(table)}",
                                line_of(lines, ("sweep",))))
        table = {}
    for key_text, values in table.items():
        line = line_of(lines, ("sweep", key_text))
        entries.append((key_text, values, _Origin((), f"sweep.{format_key((key_text,))}", line)))
    for raw in sweeps:
        try:
            key_text, values_text = split_assignment(raw)
            entries.append((key_text, parse_values(values_text), _Origin((), f"--sweep {raw}", None)))
        except OverrideError as e:
            problems.append(Problem(file, "", f"{e} (in --sweep {raw})"))
    for key_text, values, origin in entries:
        where = format_key(("sweep", key_text)) if origin.line else key_text
        try:
            key = parse_key(key_text)
            if not isinstance(values, list) or not values:
                raise OverrideError(f"a sweep needs a non-empty array of values, got {_show(values)}")
            if key[0] == "sweep":
                raise OverrideError("a sweep cannot sweep the sweep")
            set_path(apply(doc, {}), key, values[0], create=False)  # the place must exist in the spec
        except OverrideError as e:
            problems.append(Problem(file, where, f"{e}" + ("" if origin.line else f" (in {origin.text})"),
                                    origin.line))
            continue
        sweep.pop(key, None)  # a later entry for the same key replaces the earlier one, and moves last
        sweep[key] = values
        origins[key] = _Origin(key, origin.text, origin.line)
    return sweep, origins


def _attribute(path: KeyPath, origins: list[_Origin], lines: dict) -> _Origin | None:
    """The override or sweep entry a problem at ``path`` comes from, if any (the last one wins)."""
    for o in reversed(origins):
        if path[:len(o.key)] == o.key:
            return o
    if line_of(lines, path) is None:  # not in the file at all: a sibling set by an override made it needed
        for o in reversed(origins):
            if len(o.key) > 1 and path[:len(o.key) - 1] == o.key[:-1]:
                return o
    return None


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.key))


# --------------------------------------------------------------------------- public
def load(path: str | Path, sets: Sequence[str] = (), sweeps: Sequence[str] = ()) -> Loaded:
    """Read, override, expand and check one spec file; a SpecError lists every problem found."""
    path = Path(path)
    file = str(path)
    text = read_text(path)
    doc = parse_toml(text, file)
    if not doc:
        raise SpecError([Problem(file, "", "empty spec: the file holds no keys, only comments; " + _NEEDS)])
    lines = key_lines(text)
    base_dir = path.resolve().parent
    problems: list[Problem] = []
    set_origins = _apply_sets(doc, sets, file, problems)
    sweep, sweep_origins = _read_sweep(doc, sweeps, file, lines, problems)
    fallback_name = doc.get("name") if isinstance(doc.get("name"), str) else path.stem
    points, seen = [], {}  # seen: (line, key, message) -> labels of the points where it occurs
    combos = grid(sweep)
    for values in combos:
        label = point_label(fallback_name, values)
        spec, findings = check_doc(apply(doc, values), base_dir)
        origins = set_origins + [sweep_origins[k] for k in values]
        for key, message in findings:
            origin = _attribute(key, origins, lines)
            line = line_of(lines, key)
            if origin is not None:  # (the point's label says which value of a sweep)
                line = origin.line
                message += f" (from {origin.text})"
            seen.setdefault((line, format_key(key), message), []).append(label)
        if spec is not None and not findings:
            name = point_label(spec.name, values)
            points.append(Point(spec.model_copy(update={"name": name}), base_dir, name, values, path))
    for (line, key, message), labels in seen.items():
        if len(combos) > 1 and len(labels) < len(combos):
            shown = ", ".join(labels[:3]) + (", ..." if len(labels) > 3 else "")
            message += f" [in {len(labels)} of {len(combos)} sweep points: {shown}]"
        problems.append(Problem(file, key, message, line))
    if problems:
        raise SpecError(_sorted(problems))
    return Loaded(path, base_dir, doc, sweep, points)


def load_points(path: str | Path, sets: Sequence[str] = (), sweeps: Sequence[str] = ()) -> list[Point]:
    """Every point to train of one spec file (one without a sweep), all validated and checked."""
    return load(path, sets, sweeps).points


def load_all(paths: Sequence[str | Path], sets: Sequence[str] = (),
             sweeps: Sequence[str] = ()) -> list[Loaded]:
    """:func:`load` of several files; one SpecError holds the problems of all of them."""
    loaded, problems = [], []
    for p in paths:
        try:
            loaded.append(load(p, sets, sweeps))
        except SpecError as e:
            problems += e.problems
    if problems:
        raise SpecError(problems)
    return loaded


def load_spec(path: str | Path, sets: Sequence[str] = ()) -> tuple[Spec, Path]:
    """Read and check a spec file; returns the spec (a sweep's first point) and its folder."""
    first = load(path, sets).points[0]
    return first.spec, first.base_dir
