"""What a spec can name, read from the registry: every component with its parameters and backends.

``mininet list`` prints this; nothing here is written by hand, so a component registered with
:func:`mininet.runner.registry.spec_component` shows up by itself, with the backends that have the class it
``builds`` (or a hand-written :func:`mininet.runner.registry.builder`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from ..registry import KINDS, REGISTRY, Registry
from .base import MATRIX_ONLY_INITS
from .experiment import ModelSpec, Spec, TrainSpec
from .toml_writer import value as toml_value

COMPONENT_TABLES = ("data", "model", "loss", "optimizer", "scheduler", "train")

#: where each kind of component is named in a spec; "spec", "model" and "train" are the tables
#: that hold no component, listed first
WHERE = {"spec": "top-level keys", "model": "[model]", "train": "[train]", "data": "[data] type", "layer": "model.layers[*].type", "init": "model.init.weight / .bias (and per layer)",
         "loss": "[loss] type", "optimizer": "[optimizer] type", "scheduler": "[scheduler] type"}
#: kinds computed by shared, backend-neutral code: every backend uses the same numbers
SHARED_KINDS = ("data", "init")


@dataclass
class Parameter:
    name: str
    value: str  # what it accepts, e.g. "number > 0", "one of mean, sum"
    default: str | None  # as TOML; None when required
    description: str = ""

    def __str__(self) -> str:
        text = f"{self.name}: {self.value}"
        return text + (" (required)" if self.default is None else f" = {self.default}")


@dataclass
class Component:
    kind: str
    type: str
    parameters: list[Parameter]
    backends: list[str]
    description: str


#: the keys of the tables without a type (Spec's own keys but its tables), as (kind, table, class, fields)
TABLES = (("spec", "(top level)", Spec, [n for n in Spec.model_fields if n not in COMPONENT_TABLES]),
          ("model", "[model]", ModelSpec, ["init"]),
          ("train", "[train]", TrainSpec, list(TrainSpec.model_fields)))
TABLE_KINDS = tuple(kind for kind, *_ in TABLES)


def catalog(registry: Registry = REGISTRY) -> list[Component]:
    """The keys of the spec's plain tables, then every registered component, kind by kind in
    :data:`KINDS` order, types in registration order."""
    out = [Component(kind, table, parameters(cls, fields), ["all"], _first_paragraph(cls.__doc__))
           for kind, table, cls, fields in TABLES]
    for kind in KINDS:
        tags = list(dict.fromkeys(registry.types(kind) + [t for (_, k, t) in registry.builders if k == kind]))
        for tag in tags:
            cls = registry.specs.get((kind, tag))
            if kind in SHARED_KINDS:
                backends = ["all (shared)"]
            else:
                backends = sorted(b for b in registry.backends_for(kind, tag) if b != "shared")
            params = parameters(cls) if cls is not None else []
            doc = cls.__doc__ if cls is not None else _builder_doc(registry, kind, tag)
            if kind == "init" and tag in MATRIX_ONLY_INITS:
                doc = (doc or "").rstrip(".") + ". Weights only: it needs a matrix's fans."
            out.append(Component(kind, tag, params, backends, _first_paragraph(doc)))
    return out


def _builder_doc(registry: Registry, kind: str, tag: str) -> str:
    fns = [fn for (_, k, t), fn in registry.builders.items() if k == kind and t == tag]
    return next((fn.__doc__ for fn in fns if fn.__doc__), "")


def _first_paragraph(doc: str | None) -> str:
    if not doc or doc.startswith(("Usage docs:", "!!! abstract")):  # pydantic's own BaseModel docstring
        return ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def parameters(cls: type[BaseModel], only: list[str] | None = None) -> list[Parameter]:
    """A spec class's fields other than ``type`` (or those in ``only``): what each accepts and its default."""
    schema = cls.model_json_schema()
    props, defs = schema.get("properties", {}), schema.get("$defs", {})
    out = []
    for name, info in cls.model_fields.items():
        if name == "type" or (only is not None and name not in only):
            continue
        if info.is_required():
            default = None
        else:
            value = info.default if info.default is not PydanticUndefined else info.default_factory()
            default = "(none)" if value is None else _toml(value)
        out.append(Parameter(name, accepts(props.get(name, {}), defs), default, info.description or ""))
    return out


def _toml(v: Any) -> str:
    if isinstance(v, BaseModel):
        v = v.model_dump(exclude_none=True)
    try:
        return toml_value(v)
    except TypeError:
        return repr(v)


def accepts(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    """A JSON-schema property in words: ``number > 0``, ``integer >= 2``, ``one of mean, sum``, ..."""
    if "anyOf" in prop:
        kinds = [accepts(p, defs) for p in prop["anyOf"] if p.get("type") != "null"]
        return " or ".join(kinds)
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        fields = defs.get(name, {}).get("properties", {})
        return "table {" + ", ".join(fields) + "}"
    if "enum" in prop:
        return "one of " + ", ".join(str(v) for v in prop["enum"])
    if "const" in prop:
        return str(prop["const"])
    kind = prop.get("type", "any")
    if kind == "array":
        items = prop.get("prefixItems") or [prop.get("items", {})]
        inner = ", ".join(accepts(p, defs) for p in items)
        return f"array of {inner}" if "items" in prop else f"[{inner}]"
    low = (">=", prop["minimum"]) if "minimum" in prop else (">", prop.get("exclusiveMinimum"))
    high = ("<=", prop["maximum"]) if "maximum" in prop else ("<", prop.get("exclusiveMaximum"))
    if low[1] is not None and high[1] is not None:
        return f"{kind} in {'[' if low[0] == '>=' else '('}{low[1]}, {high[1]}{']' if high[0] == '<=' else ')'}"
    for op, bound in (low, high):
        if bound is not None:
            return f"{kind} {op} {bound}"
    return kind
