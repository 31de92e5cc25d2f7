"""From a validated spec to objects: resolved widths, initial parameters, and each backend's components."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .registry import REGISTRY
from .seeds import generator
from .shapes import Shape, walk
from .spec import Spec

DTYPES = {"float32": torch.float32, "float64": torch.float64}

# Importing the backends registers their builders.
from .backends import mininet as _mininet_backend  # noqa: E402,F401
from .backends import torch as _torch_backend  # noqa: E402,F401
from . import init_params as _init_params  # noqa: E402,F401


def resolve(spec: Spec, features: Shape) -> Spec:
    """A copy of ``spec`` with every inferable size filled in (layer ``in_features``, ``in_channels``,
    ``num_features``, ``normalized_shape``), from one sample's shape (``features``)."""
    spec = spec.model_copy(deep=True)
    for (i, name), value in walk(spec.model.layers, features, spec.data).fills.items():
        setattr(spec.model.layers[i], name, value)
    return spec


def build_model(backend: str, spec: Spec, device: str | torch.device | None = None) -> Any:
    """The model of a resolved spec on ``backend`` (a Sequential, parameters not yet initialised)."""
    dtype = DTYPES[spec.dtype]
    device = device or spec.device
    layers = [REGISTRY.build(backend, "layer", layer, dtype=dtype, device=device) for layer in spec.model.layers]
    container = REGISTRY.builders[(backend, "container", "sequential")]
    return container(layers)


def build_loss(backend: str, spec: Spec, device: str | torch.device | None = None) -> Any:
    return REGISTRY.build(backend, "loss", spec.loss, dtype=DTYPES[spec.dtype], device=device or spec.device)


def build_optimizer(backend: str, spec: Spec, params: Any) -> Any:
    return REGISTRY.build(backend, "optimizer", spec.optimizer, params)


def build_scheduler(backend: str, spec: Spec, optimizer: Any) -> Any:
    return None if spec.scheduler is None else REGISTRY.build(backend, "scheduler", spec.scheduler, optimizer)


def initial_state(spec: Spec, repetition: int) -> dict[str, torch.Tensor]:
    """The initial parameters of one repetition, as a CPU state_dict that both backends load.

    The layers with an ``init`` field (Linear, Conv2d) are filled in order, weight before bias, from
    the repetition's "init" stream, each with its own ``init`` or the model's default; other layers
    keep their constructors' fixed values.
    """
    model = build_model("mininet", spec, device="cpu")
    g = generator(spec.seed, repetition, "init")
    for layer_spec, module in zip(spec.model.layers, model):
        if "init" in type(layer_spec).model_fields:
            scheme = layer_spec.init or spec.model.init
            fan_in = module.weight.data[0].numel()  # inputs per output: in_features, or C/groups * kh * kw
            REGISTRY.builders[("shared", "init", scheme.weight)](module.weight.data, g, fan_in)
            if module.bias is not None:
                REGISTRY.builders[("shared", "init", scheme.bias)](module.bias.data, g, fan_in)
    return {k: v.clone() for k, v in model.state_dict().items()}


def spec_dir(path: str | Path | None) -> Path:
    return Path(path).resolve().parent if path is not None else Path.cwd()
