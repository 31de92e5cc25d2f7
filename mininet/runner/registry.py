"""The component registry: one place that knows every spec type and how each backend builds it.

Three tables:

* spec classes, keyed by ``(kind, type)`` -- e.g. ``("layer", "linear") -> LinearSpec``; the spec's
  tagged unions and ``mininet list`` are generated from it;
* backends, keyed by name -- where each backend's classes live (``mininet`` or ``torch.nn``,
  ``mininet.optim`` or ``torch.optim``, ...), so that a spec class's ``builds = "Linear"`` names a
  class on every backend;
* hand-written builders, keyed by ``(backend, kind, type)``, for what no class attribute can say:
  the trainers, the backend-neutral code (``"shared"``: data sets, inits, shape rules, metrics) and
  any component whose two backends differ.

Adding a layer that torch.nn and mininet both have is one spec class in ``runner/spec/layers.py``
(decorated with :func:`spec_component`, with ``builds`` naming the class); a layer that changes or
constrains a sample's shape also gets its rule in ``runner/spec/shapes.py``. There are no if-ladders
over type names anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

KINDS = ("data", "layer", "init", "loss", "optimizer", "scheduler")
BACKENDS = ("mininet", "torch")


@dataclass(frozen=True)
class Namespaces:
    """Where one backend's classes live, found by the names that spec classes give in ``builds``."""

    nn: ModuleType  # layers, losses and Sequential
    optim: ModuleType
    lr_scheduler: ModuleType
    #: the runner's own layers, for spec types that no single torch.nn class is (a residual block, ...)
    layers: ModuleType | None = None

    def for_kind(self, kind: str) -> ModuleType | None:
        """The namespace of a kind's classes (None for kinds no class builds: data, init)."""
        return {"layer": self.nn, "loss": self.nn, "optimizer": self.optim,
                "scheduler": self.lr_scheduler}.get(kind)

    def find(self, kind: str, name: str) -> type | None:
        """The class named ``name`` among a kind's classes (layers: torch.nn's names, then the runner's)."""
        where = self.for_kind(kind)
        found = getattr(where, name, None) if where is not None else None
        if found is None and kind == "layer" and self.layers is not None:
            found = getattr(self.layers, name, None)
        return found


@dataclass
class Registry:
    specs: dict[tuple[str, str], type] = field(default_factory=dict)
    backends: dict[str, Namespaces] = field(default_factory=dict)
    builders: dict[tuple[str, str, str], Callable[..., Any]] = field(default_factory=dict)

    def add_spec(self, kind: str, tag: str, spec_cls: type) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown component kind {kind!r}; kinds are {KINDS}")
        if (kind, tag) in self.specs:
            raise ValueError(f"{kind} type {tag!r} is registered twice")
        self.specs[(kind, tag)] = spec_cls

    def add_backend(self, name: str, namespaces: Namespaces) -> None:
        if name in self.backends:
            raise ValueError(f"backend {name!r} is registered twice")
        self.backends[name] = namespaces

    def add_builder(self, backend: str, kind: str, tag: str, fn: Callable[..., Any]) -> None:
        if (backend, kind, tag) in self.builders:
            raise ValueError(f"{backend} builder for {kind} {tag!r} is registered twice")
        self.builders[(backend, kind, tag)] = fn

    def types(self, kind: str) -> list[str]:
        return [tag for (k, tag) in self.specs if k == kind]

    def spec_classes(self, kind: str) -> list[type]:
        return [cls for (k, _), cls in self.specs.items() if k == kind]

    def component_class(self, backend: str, kind: str, tag: str) -> type | None:
        """The class that ``backend`` builds for a spec type from its ``builds`` name, if it has one."""
        spec_cls = self.specs.get((kind, tag))
        name = getattr(spec_cls, "builds", None)
        namespaces = self.backends.get(backend)
        return namespaces.find(kind, name) if name and namespaces is not None else None

    def backends_for(self, kind: str, tag: str) -> list[str]:
        """Backends that can build a type: by a hand-written builder, or by the class it names."""
        custom = [b for (b, k, t) in self.builders if k == kind and t == tag]
        by_class = [b for b in self.backends if b not in custom and self.component_class(b, kind, tag) is not None]
        return custom + by_class


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
