"""The component registry: one place that knows every spec type and how each backend builds it.

Two tables:

* spec classes, keyed by ``(kind, type)`` -- e.g. ``("layer", "linear") -> LinearSpec``; the spec's
  tagged unions and ``mininet list`` are generated from it;
* builders, keyed by ``(backend, kind, type)`` -- e.g. ``("torch", "layer", "linear") -> callable``.

Adding a component is one spec class decorated with :func:`spec_component` plus its builders: one
function in ``runner/backends/nn_api.py`` when both backends take torch's class name and arguments
(it is registered for each), else one :func:`builder` per backend; a layer that changes or constrains
a sample's shape also gets its rule in ``runner/shapes.py``. There are no if-ladders over type names
anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

KINDS = ("data", "layer", "init", "loss", "optimizer", "scheduler")
BACKENDS = ("mininet", "torch")


@dataclass
class Registry:
    specs: dict[tuple[str, str], type] = field(default_factory=dict)
    builders: dict[tuple[str, str, str], Callable[..., Any]] = field(default_factory=dict)

    def add_spec(self, kind: str, tag: str, spec_cls: type) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown component kind {kind!r}; kinds are {KINDS}")
        if (kind, tag) in self.specs:
            raise ValueError(f"{kind} type {tag!r} is registered twice")
        self.specs[(kind, tag)] = spec_cls

    def add_builder(self, backend: str, kind: str, tag: str, fn: Callable[..., Any]) -> None:
        if (backend, kind, tag) in self.builders:
            raise ValueError(f"{backend} builder for {kind} {tag!r} is registered twice")
        self.builders[(backend, kind, tag)] = fn

    def types(self, kind: str) -> list[str]:
        return [tag for (k, tag) in self.specs if k == kind]

    def spec_classes(self, kind: str) -> list[type]:
        return [cls for (k, _), cls in self.specs.items() if k == kind]

    def backends_for(self, kind: str, tag: str) -> list[str]:
        return [b for (b, k, t) in self.builders if k == kind and t == tag]

    def build(self, backend: str, kind: str, spec: Any, *args: Any, **kwargs: Any) -> Any:
        tag = spec.type
        try:
            fn = self.builders[(backend, kind, tag)]
        except KeyError:
            raise LookupError(f"the {backend} backend has no {kind} of type {tag!r} "
                              f"(available: {', '.join(self.backends_for(kind, tag)) or 'none'})") from None
        return fn(spec, *args, **kwargs)


REGISTRY = Registry()


def spec_component(kind: str) -> Callable[[type], type]:
    """Class decorator: register a pydantic spec class under ``(kind, its type tag)``."""

    def wrap(cls: type) -> type:
        tag = cls.model_fields["type"].default
        REGISTRY.add_spec(kind, tag, cls)
        return cls

    return wrap


def builder(backend: str, kind: str, *tags: str) -> Callable[[Callable], Callable]:
    """Function decorator: register ``fn(spec, ...)`` as ``backend``'s constructor for ``tags``."""

    def wrap(fn: Callable) -> Callable:
        for tag in tags:
            REGISTRY.add_builder(backend, kind, tag, fn)
        return fn

    return wrap
