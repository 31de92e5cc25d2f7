"""TOML text -> validated :class:`~runner.spec.Spec`, or a :class:`SpecError` listing every problem."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .spec import Spec

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
        head = f"{n} problem{'s' if n != 1 else ''} in spec:"
        return "\n".join([head] + [f"  {p}" for p in self.problems])


def key_path(loc: tuple[Any, ...]) -> str:
    """pydantic's error location -> ``model.layers[2].in_features`` (union tags left out)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError([Problem(str(path), "", "file not found")]) from None
    except IsADirectoryError:
        raise SpecError([Problem(str(path), "", "is a directory, not a spec file")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError([Problem(str(path), "", f"not UTF-8 text (byte {e.start}); is this a TOML file?")]) from None
    if not text.strip():
        raise SpecError([Problem(str(path), "", "empty file: a spec needs at least name, data, model, loss, "
                                                "optimizer and train")])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError([Problem(str(path), "", f"malformed TOML: {e}")]) from None


def validate(doc: dict[str, Any], file: str = "<spec>") -> Spec:
    try:
        return Spec.model_validate(doc)
    except ValidationError as e:
        problems = [Problem(file, key_path(err["loc"]), err["msg"]) for err in e.errors()]
        raise SpecError(problems) from None


def load_spec(path: str | Path) -> tuple[Spec, Path]:
    """Read and validate a spec file; returns the spec and the folder its relative paths start from."""
    path = Path(path)
    return validate(read_toml(path), str(path)), path.resolve().parent
