"""What each layer of a spec's model does to the shape of one sample, from the data to the loss.

A sample is a vector (an int: its width) or an image (a tuple: channels, height, width). One walk
over the layers both fills the sizes a spec leaves out (:func:`resolve`) and finds the ones
that do not fit (``mininet.runner.spec.checks``), so the two cannot disagree. Each layer type that changes or
constrains the shape has a rule, registered as ``("shared", "shape", type)``; a type without one
(activations, dropout, ...) keeps the shape of its input. Convolution and pooling sizes follow
torch's formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from ..registry import REGISTRY, builder
from .experiment import Spec

Shape = Union[int, tuple[int, int, int]]
Finding = tuple[tuple, str]


@dataclass
class Walk:
    """The result of walking a model: inferred sizes, problems, and what comes out."""

    fills: dict[tuple[int, str], int] = field(default_factory=dict)  # (layer index, field) -> size
    findings: list[Finding] = field(default_factory=list)
    shape: Shape | None = None  # one sample's output; None when the data or a problem leaves it unknown
    source: int | None = None  # the layer that set the shape last (None: the data)


def describe(shape: Shape, source: int | None, data: Any, layers: list[Any]) -> str:
    """Where a shape comes from, in words: 'the data (disk) has 2 features', 'model.layers[0] (linear)
    outputs 4', 'model.layers[2] (conv2d) outputs 8 channels of 6 x 6'."""
    if isinstance(shape, tuple):
        c, h, w = shape
        what = f"{c} channel{'s' if c != 1 else ''} of {h} x {w}"
    else:
        what = f"{shape}"
    if source is None:
        if isinstance(shape, tuple):
            return f"the data ({data.type}) has images of {what}"
        return f"the data ({data.type}) has {shape} feature{'s' if shape != 1 else ''}"
    return f"model.layers[{source}] ({layers[source].type}) outputs {what}"


def walk(layers: list[Any], shape: Shape | None, data: Any) -> Walk:
    """Follow one sample's shape through ``layers`` (spec tables), starting from the data's ``shape``
    (None: unknown, then only the layers' own sizes are checked against each other)."""
    result = Walk(shape=shape)
    for i, layer in enumerate(layers):
        rule = REGISTRY.builders.get(("shared", "shape", layer.type))
        if rule is not None:
            rule(Step(result, i, layer, layers, data))
    return result


@dataclass
class Step:
    """One layer of the walk, with the helpers its rule needs."""

    result: Walk
    index: int
    layer: Any
    layers: list[Any]
    data: Any

    @property
    def shape(self) -> Shape | None:
        return self.result.shape

    def output(self, shape: Shape | None) -> None:
        """This layer sets the shape (None: a problem left it unknown)."""
        self.result.shape, self.result.source = shape, self.index

    def where(self) -> str:
        return describe(self.result.shape, self.result.source, self.data, self.layers)

    def problem(self, key: str, message: str) -> None:
        self.result.findings.append((("model", "layers", self.index, key), message))

    def takes(self, image: bool) -> bool:
        """Whether the layer gets the kind of sample it takes (a finding, and an unknown shape, if not)."""
        shape = self.result.shape
        if shape is None or isinstance(shape, tuple) == image:
            return shape is not None
        if image:
            self.problem("type", f"{self.layer.type} takes images (channels, height, width), but {self.where()}")
        else:
            self.problem("type", f"{self.layer.type} takes vectors (batch, features), but {self.where()}: put a "
                                 'layer { type = "flatten" } before it')
        self.result.shape = None
        return False

    def size(self, name: str, actual: int) -> None:
        """A size the layer must agree with: filled when left out, a finding when it differs."""
        given = getattr(self.layer, name)
        if given is None:
            self.result.fills[(self.index, name)] = actual
        elif given != actual:
            self.problem(name, f"is {given}, but {self.where()}")


def _window_out(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool = False) -> int:
    """torch's output size of a convolution or pooling window sliding over ``size`` positions."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + padding:  # the last window must start inside the input
        out -= 1
    return out


# --------------------------------------------------------------------------- the rules
@builder("shared", "shape", "linear")
def _linear(step: Step) -> None:
    if step.takes(image=False):
        step.size("in_features", step.shape)
    step.output(step.layer.out_features)


@builder("shared", "shape", "batch_norm")
def _batch_norm(step: Step) -> None:
    if step.takes(image=False):
        step.size("num_features", step.shape)


@builder("shared", "shape", "layer_norm")
def _layer_norm(step: Step) -> None:
    if step.takes(image=False):
        step.size("normalized_shape", step.shape)


@builder("shared", "shape", "batch_norm2d")
def _batch_norm2d(step: Step) -> None:
    if step.takes(image=True):
        step.size("num_features", step.shape[0])


@builder("shared", "shape", "conv2d")
def _conv2d(step: Step) -> None:
    layer = step.layer
    for name in ("in_channels", "out_channels"):
        size = getattr(layer, name)
        if size is not None and size % layer.groups:
            step.problem("groups", f"is {layer.groups}, but {name} ({size}) is not divisible by it")
    if not step.takes(image=True):
        return step.output(None)
    c, h, w = step.shape
    step.size("in_channels", c)
    out = [_window_out(n, layer.kernel_size, layer.stride, layer.padding, layer.dilation) for n in (h, w)]
    if min(out) < 1:
        step.problem("kernel_size", f"is {layer.kernel_size} (dilation {layer.dilation}, padding {layer.padding}), "
                                    f"which does not fit: {step.where()}")
        return step.output(None)
    step.output((layer.out_channels, *out))


@builder("shared", "shape", "max_pool2d", "avg_pool2d")
def _pool2d(step: Step) -> None:
    layer = step.layer
    if layer.padding > layer.kernel_size // 2:
        step.problem("padding", f"is {layer.padding}, but torch allows at most half the kernel_size "
                                f"({layer.kernel_size // 2})")
        return step.output(None)
    if not step.takes(image=True):
        return
    c, h, w = step.shape
    stride = layer.stride or layer.kernel_size
    out = [_window_out(n, layer.kernel_size, stride, layer.padding, 1, layer.ceil_mode) for n in (h, w)]
    if min(out) < 1:
        step.problem("kernel_size", f"is {layer.kernel_size}, which does not fit: {step.where()}")
        return step.output(None)
    step.output((c, *out))


@builder("shared", "shape", "flatten")
def _flatten(step: Step) -> None:
    if isinstance(step.shape, tuple):
        c, h, w = step.shape
        step.output(c * h * w)


def resolve(spec: Spec, features: Shape) -> Spec:
    """A copy of ``spec`` with every inferable size filled in (layer ``in_features``, ``in_channels``,
    ``num_features``, ``normalized_shape``), from one sample's shape (``features``)."""
    spec = spec.model_copy(deep=True)
    for (i, name), value in walk(spec.model.layers, features, spec.data).fills.items():
        setattr(spec.model.layers[i], name, value)
    return spec
