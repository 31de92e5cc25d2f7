"""From a resolved spec to objects on either backend: one generic builder, and the initial parameters.

A component spec names the class it builds (``builds = "Conv2d"``) and its fields are that class's
constructor arguments; the backend's namespaces (``REGISTRY.backends``) say where the class lives.
So :func:`construct` builds every component of both backends from the spec class alone; only a type
with a hand-written builder in the registry (``(backend, kind, type)``) is built by that instead.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import torch

from ..registry import BACKENDS, REGISTRY
from ..spec.experiment import Spec
from . import init_params as _init_params  # noqa: F401  (registers the init schemes)
from .seeds import derive, generator

DTYPES = {"float32": torch.float32, "float64": torch.float64}


@functools.cache
def _takes_dtype(cls: type) -> bool:
    # factory keywords, as torch.nn's layers with parameters or buffers take them (activations do not)
    return "dtype" in inspect.signature(cls).parameters


def arguments(spec: Any, cls: type, dtype: torch.dtype, device: str | torch.device) -> dict[str, Any]:
    """The constructor keywords of ``cls`` that ``spec`` gives: its fields but ``type`` and the
    spec class's ``not_arguments``, its ``tensors`` fields as tensors, and dtype and device where the
    class takes them."""
    spec_cls = type(spec)
    skip = {"type", *spec_cls.not_arguments}
    kwargs = {name: getattr(spec, name) for name in spec_cls.model_fields if name not in skip}
    for name in spec_cls.tensors:
        if kwargs[name] is not None:
            kwargs[name] = torch.tensor(kwargs[name], dtype=dtype, device=device)
    if _takes_dtype(cls):
        kwargs.update(dtype=dtype, device=device)
    return kwargs


def construct(backend: str, kind: str, spec: Any, *leading: Any, dtype: torch.dtype = torch.float32,
              device: str | torch.device = "cpu") -> Any:
    """Build one component of ``kind`` from its spec on ``backend``; ``leading`` are the positional
    arguments before the spec's (an optimizer's parameters, a scheduler's optimizer)."""
    custom = REGISTRY.builders.get((backend, kind, spec.type))
    if custom is not None:
        return custom(spec, *leading, dtype=dtype, device=device)
    cls = REGISTRY.component_class(backend, kind, spec.type)
    if cls is None:
        available = ", ".join(REGISTRY.backends_for(kind, spec.type)) or "none"
        raise LookupError(f"the {backend} backend has no {kind} of type {spec.type!r} (available: {available})")
    return cls(*leading, **arguments(spec, cls, dtype, device))


def _residual(backend: str):
    def build(spec: Any, dtype: torch.dtype, device: str | torch.device) -> Any:
        layers = [construct(backend, "layer", layer, dtype=dtype, device=device) for layer in spec.layers]
        return REGISTRY.component_class(backend, "layer", "residual")(*layers)
    return build


for _backend in BACKENDS:  # a residual block holds layers: built by the same construct, on its backend
    REGISTRY.add_builder(_backend, "layer", "residual", _residual(_backend))


def build_model(backend: str, spec: Spec, device: str | torch.device | None = None) -> Any:
    """The model of a resolved spec on ``backend`` (a Sequential, parameters not yet initialised)."""
    kw = dict(dtype=DTYPES[spec.dtype], device=device or spec.device)
    layers = [construct(backend, "layer", layer, **kw) for layer in spec.model.layers]
    return REGISTRY.backends[backend].nn.Sequential(*layers)


def build_loss(backend: str, spec: Spec, device: str | torch.device | None = None) -> Any:
    """The spec's loss; for data with a target per time step, applied to every step's output."""
    loss = construct(backend, "loss", spec.loss, dtype=DTYPES[spec.dtype], device=device or spec.device)
    if getattr(spec.data, "targets_per_step", False):
        loss = REGISTRY.backends[backend].layers.PerStepLoss(loss)
    return loss


def build_optimizer(backend: str, spec: Spec, params: Any) -> Any:
    return construct(backend, "optimizer", spec.optimizer, params)


def build_scheduler(backend: str, spec: Spec, optimizer: Any) -> Any:
    return None if spec.scheduler is None else construct(backend, "scheduler", spec.scheduler, optimizer)


def initial_state(spec: Spec, repetition: int) -> dict[str, torch.Tensor]:
    """The initial parameters of one repetition, as a CPU state_dict that both backends load.

    The layers with an ``init`` field (Linear, Conv2d) are filled in order, weight before bias, from
    the repetition's "init" stream, each with its own ``init`` or the model's default (inside residual
    blocks too, in the order of the spec). The other layers keep what their constructors draw (an
    Embedding's N(0, 1), a recurrent layer's uniform weights, attention's Xavier), from torch's global
    generator seeded with the repetition's "modules" seed, so that runs repeat.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive(spec.seed, repetition, "modules"))
        model = build_model("mininet", spec, device="cpu")
    g = generator(spec.seed, repetition, "init")
    _init_layers(spec, spec.model.layers, list(model), g)
    return {k: v.clone() for k, v in model.state_dict().items()}


def _init_layers(spec: Spec, layer_specs: list[Any], modules: list[Any], g: torch.Generator) -> None:
    for layer_spec, module in zip(layer_specs, modules):
        if layer_spec.type == "residual":
            _init_layers(spec, layer_spec.layers, list(module.body), g)
        elif "init" in type(layer_spec).model_fields:
            scheme = layer_spec.init or spec.model.init
            fan_in = module.weight.data[0].numel()  # inputs per output: in_features, or C/groups * kh * kw
            REGISTRY.builders[("shared", "init", scheme.weight)](module.weight.data, g, fan_in)
            if module.bias is not None:
                REGISTRY.builders[("shared", "init", scheme.bias)](module.bias.data, g, fan_in)
