"""What each layer of a spec's model does to the shape of one sample, from the data to the loss.

A sample is a vector (an int: its width) or an image (a tuple: channels, height, width). One walk
over the layers both fills the sizes a spec leaves out (``runner.build.resolve``) and finds the ones
that do not fit (``runner.checks``), so the two cannot disagree. Convolution and pooling sizes follow
torch's formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

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


def _window_out(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool = False) -> int:
    """torch's output size of a convolution or pooling window sliding over ``size`` positions."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + padding:  # the last window must start inside the input
        out -= 1
    return out


def walk(layers: list[Any], shape: Shape | None, data: Any) -> Walk:
    """Follow one sample's shape through ``layers`` (spec tables), starting from the data's ``shape``
    (None: unknown, then only the layers' own sizes are checked against each other)."""
    result = Walk(shape=shape)
    for i, layer in enumerate(layers):
        _step(result, i, layer, layers, data)
    return result


def _need(result: Walk, i: int, layer: Any, layers: list[Any], data: Any, image: bool) -> bool:
    """Whether the layer gets the kind of sample it takes (a finding, and an unknown shape, if not)."""
    shape = result.shape
    if shape is None or isinstance(shape, tuple) == image:
        return shape is not None
    source = describe(shape, result.source, data, layers)
    if image:
        message = f"{layer.type} takes images (channels, height, width), but {source}"
    else:
        message = (f"{layer.type} takes vectors (batch, features), but {source}: put a layer "
                   '{ type = "flatten" } before it')
    result.findings.append((("model", "layers", i, "type"), message))
    result.shape = None
    return False


def _size(result: Walk, i: int, layer: Any, name: str, actual: int, layers: list[Any], data: Any) -> None:
    """A size the layer must agree with: filled when left out, a finding when it differs."""
    given = getattr(layer, name)
    if given is None:
        result.fills[(i, name)] = actual
    elif given != actual:
        result.findings.append((("model", "layers", i, name),
                                f"is {given}, but {describe(result.shape, result.source, data, layers)}"))


def _step(result: Walk, i: int, layer: Any, layers: list[Any], data: Any) -> None:
    kind = layer.type
    if kind == "linear":
        if _need(result, i, layer, layers, data, image=False):
            _size(result, i, layer, "in_features", result.shape, layers, data)
        result.shape, result.source = layer.out_features, i
    elif kind in ("batch_norm", "layer_norm"):
        name = "num_features" if kind == "batch_norm" else "normalized_shape"
        if _need(result, i, layer, layers, data, image=False):
            _size(result, i, layer, name, result.shape, layers, data)
    elif kind == "batch_norm2d":
        if _need(result, i, layer, layers, data, image=True):
            _size(result, i, layer, "num_features", result.shape[0], layers, data)
    elif kind == "conv2d":
        _conv2d(result, i, layer, layers, data)
    elif kind == "max_pool2d":
        _max_pool2d(result, i, layer, layers, data)
    elif kind == "flatten":
        if isinstance(result.shape, tuple):
            c, h, w = result.shape
            result.shape, result.source = c * h * w, i
    # every other layer keeps the shape of its input


def _conv2d(result: Walk, i: int, layer: Any, layers: list[Any], data: Any) -> None:
    for name in ("in_channels", "out_channels"):
        size = getattr(layer, name)
        if size is not None and size % layer.groups:
            result.findings.append((("model", "layers", i, "groups"),
                                    f"is {layer.groups}, but {name} ({size}) is not divisible by it"))
    known = _need(result, i, layer, layers, data, image=True)
    if known:
        c, h, w = result.shape
        _size(result, i, layer, "in_channels", c, layers, data)
        out = [_window_out(n, layer.kernel_size, layer.stride, layer.padding, layer.dilation) for n in (h, w)]
        if min(out) < 1:
            result.findings.append((("model", "layers", i, "kernel_size"),
                                    f"is {layer.kernel_size} (dilation {layer.dilation}, padding {layer.padding}), "
                                    f"which does not fit: {describe(result.shape, result.source, data, layers)}"))
            known = False
    result.shape = (layer.out_channels, *out) if known else None
    result.source = i


def _max_pool2d(result: Walk, i: int, layer: Any, layers: list[Any], data: Any) -> None:
    if layer.padding > layer.kernel_size // 2:
        result.findings.append((("model", "layers", i, "padding"),
                                f"is {layer.padding}, but torch allows at most half the kernel_size "
                                f"({layer.kernel_size // 2})"))
        result.shape = None
    if not _need(result, i, layer, layers, data, image=True):
        return
    c, h, w = result.shape
    stride = layer.stride or layer.kernel_size
    out = [_window_out(n, layer.kernel_size, stride, layer.padding, 1, layer.ceil_mode) for n in (h, w)]
    if min(out) < 1:
        result.findings.append((("model", "layers", i, "kernel_size"),
                                f"is {layer.kernel_size}, which does not fit: "
                                f"{describe(result.shape, result.source, data, layers)}"))
        result.shape = None
        return
    result.shape, result.source = (c, *out), i
