"""What each layer of a spec's model does to the shape of one sample, from the data to the loss.

A sample is a vector (an int: its width), an image (a tuple: channels, height, width), a sequence of
token indices (:class:`Tokens`: a text) or a sequence of vectors (:class:`Steps`). One walk over the
layers both fills the sizes a spec leaves out (:func:`resolve`) and finds the ones that do not fit
(``mininet.runner.spec.checks``), so the two cannot disagree. Each layer type that changes or
constrains the shape has a rule, registered as ``("shared", "shape", type)``; a type without one
(activations, dropout, ...) keeps the shape of its input. A ``residual`` layer walks its own layers
from its input's shape, and must give that shape back. Convolution and pooling sizes follow torch's
formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from ..data.samples import Steps, Tokens
from ..registry import REGISTRY, builder
from .experiment import Spec


Shape = Union[int, tuple[int, int, int], Tokens, Steps]
Finding = tuple[tuple, str]
#: a layer's place in the model: its index, then the index inside each enclosing residual layer
Place = tuple[int, ...]

KINDS = {"vector": "vectors (batch, features)", "image": "images (channels, height, width)",
         "tokens": "token indices (batch, length)", "steps": "sequences (batch, length, features)"}


def kind(shape: Shape) -> str:
    if isinstance(shape, Tokens):
        return "tokens"
    if isinstance(shape, Steps):
        return "steps"
    return "image" if isinstance(shape, tuple) else "vector"


def key_path(place: Place) -> tuple:
    """The spec's key path of the layer at ``place``: ('model', 'layers', 2, 'layers', 0)."""
    path: tuple = ("model",)
    for index in place:
        path += ("layers", index)
    return path


def layer_name(place: Place, layer: Any) -> str:
    """'model.layers[2].layers[0] (linear)'."""
    return "model" + "".join(f".layers[{i}]" for i in place) + f" ({layer.type})"


def what(shape: Shape) -> str:
    """One sample's shape in words: '4', '8 channels of 6 x 6', 'sequences of 32 tokens below 71'."""
    if isinstance(shape, Tokens):
        return f"sequences of {shape.length} tokens below {shape.vocab}"
    if isinstance(shape, Steps):
        return f"sequences of {shape.length} steps of {shape.features} features"
    if isinstance(shape, tuple):
        c, h, w = shape
        return f"{c} channel{'s' if c != 1 else ''} of {h} x {w}"
    return f"{shape}"


def describe(shape: Shape, source: tuple[Place, Any] | None, data: Any, layers: list[Any] | None = None) -> str:
    """Where a shape comes from, in words: 'the data (disk) has 2 features', 'model.layers[0] (linear)
    outputs 4', 'model.layers[2] (conv2d) outputs 8 channels of 6 x 6'. ``source``: the place and spec
    of the layer that set the shape (None: the data)."""
    if source is None:
        if isinstance(shape, int):
            return f"the data ({data.type}) has {shape} feature{'s' if shape != 1 else ''}"
        prefix = "images of " if kind(shape) == "image" else ""
        return f"the data ({data.type}) has {prefix}{what(shape)}"
    place, layer = source
    return f"{layer_name(place, layer)} outputs {what(shape)}"


@dataclass
class Walk:
    """The result of walking a model: inferred sizes, problems, and what comes out."""

    fills: dict[tuple[Place, str], int] = field(default_factory=dict)  # (layer place, field) -> size
    findings: list[Finding] = field(default_factory=list)
    shape: Shape | None = None  # one sample's output; None when the data or a problem leaves it unknown
    source: tuple[Place, Any] | None = None  # the layer that set the shape last (None: the data)


#: the layers that take token indices; any other layer given tokens is a finding
TOKEN_LAYERS = ("embedding",)


def walk(layers: list[Any], shape: Shape | None, data: Any, result: Walk | None = None,
         outer: Place = ()) -> Walk:
    """Follow one sample's shape through ``layers`` (spec tables), starting from the data's ``shape``
    (None: unknown, then only the layers' own sizes are checked against each other). ``result`` and
    ``outer``: the walk and place of an enclosing residual layer."""
    if result is None:
        result = Walk(shape=shape)
    for i, layer in enumerate(layers):
        step = Step(result, outer + (i,), layer, data)
        if isinstance(result.shape, Tokens) and layer.type not in TOKEN_LAYERS:
            step.problem("type", f"{layer.type} cannot take token indices, but {step.where()}: start the model "
                                 'with a layer { type = "embedding" }')
            result.shape = None
        rule = REGISTRY.builders.get(("shared", "shape", layer.type))
        if rule is not None:
            rule(step)
    return result


@dataclass
class Step:
    """One layer of the walk, with the helpers its rule needs."""

    result: Walk
    place: Place
    layer: Any
    data: Any

    @property
    def shape(self) -> Shape | None:
        return self.result.shape

    def output(self, shape: Shape | None) -> None:
        """This layer sets the shape (None: a problem left it unknown)."""
        self.result.shape, self.result.source = shape, (self.place, self.layer)

    def where(self) -> str:
        return describe(self.result.shape, self.result.source, self.data)

    def problem(self, key: str, message: str) -> None:
        self.result.findings.append((key_path(self.place) + (key,), message))

    def takes(self, *kinds: str) -> bool:
        """Whether the layer gets a kind of sample it takes (a finding, and an unknown shape, if not)."""
        shape = self.result.shape
        if shape is None:
            return False
        if kind(shape) in kinds:
            return True
        takes = " or ".join(KINDS[k] for k in kinds)
        hint = ': put a layer { type = "flatten" } before it' if "vector" in kinds and kind(shape) == "image" else ""
        self.problem("type", f"{self.layer.type} takes {takes}, but {self.where()}{hint}")
        self.result.shape = None
        return False

    def size(self, name: str, actual: int) -> None:
        """A size the layer must agree with: filled when left out, a finding when it differs."""
        given = getattr(self.layer, name)
        if given is None:
            self.result.fills[(self.place, name)] = actual
        elif given != actual:
            self.problem(name, f"is {given}, but {self.where()}")

    def width(self) -> int:
        """The features of a vector, or of every step of a sequence."""
        return self.shape.features if isinstance(self.shape, Steps) else self.shape

    def same_kind(self, width: int) -> Shape:
        """A vector of ``width``, or a sequence of as many steps of ``width`` as the input has."""
        return Steps(self.shape.length, width) if isinstance(self.shape, Steps) else width


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
    if step.takes("vector", "steps"):  # a sequence: the same Linear at every time step
        step.size("in_features", step.width())
        return step.output(step.same_kind(step.layer.out_features))
    step.output(step.layer.out_features)


@builder("shared", "shape", "batch_norm")
def _batch_norm(step: Step) -> None:
    if step.takes("vector"):
        step.size("num_features", step.shape)


@builder("shared", "shape", "layer_norm")
def _layer_norm(step: Step) -> None:
    if step.takes("vector", "steps"):
        step.size("normalized_shape", step.width())


@builder("shared", "shape", "batch_norm2d")
def _batch_norm2d(step: Step) -> None:
    if step.takes("image"):
        step.size("num_features", step.shape[0])


@builder("shared", "shape", "conv2d")
def _conv2d(step: Step) -> None:
    layer = step.layer
    for name in ("in_channels", "out_channels"):
        size = getattr(layer, name)
        if size is not None and size % layer.groups:
            step.problem("groups", f"is {layer.groups}, but {name} ({size}) is not divisible by it")
    if not step.takes("image"):
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
    if not step.takes("image"):
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
    if kind(step.shape) == "image":
        c, h, w = step.shape
        step.output(c * h * w)
    elif isinstance(step.shape, Steps):
        step.output(step.shape.length * step.shape.features)


@builder("shared", "shape", "embedding")
def _embedding(step: Step) -> None:
    layer = step.layer
    if layer.padding_idx is not None and layer.num_embeddings is not None \
            and not -layer.num_embeddings <= layer.padding_idx < layer.num_embeddings:
        step.problem("padding_idx", f"is {layer.padding_idx}, outside the {layer.num_embeddings} embeddings")
    if not step.takes("tokens"):
        return step.output(None)
    vocab = step.shape.vocab
    if layer.num_embeddings is None:
        step.result.fills[(step.place, "num_embeddings")] = vocab
    elif layer.num_embeddings < vocab:
        step.problem("num_embeddings", f"is {layer.num_embeddings}, but {step.where()}: every token needs a row")
    step.output(Steps(step.shape.length, layer.embedding_dim))


@builder("shared", "shape", "position_embedding")
def _position_embedding(step: Step) -> None:
    if not step.takes("steps"):
        return
    step.size("embedding_dim", step.shape.features)
    given = step.layer.num_positions
    if given is None:
        step.result.fills[(step.place, "num_positions")] = step.shape.length
    elif given < step.shape.length:
        step.problem("num_positions", f"is {given}, but {step.where()}: every position needs a row")


@builder("shared", "shape", "rnn", "lstm", "gru")
def _recurrent(step: Step) -> None:
    layer = step.layer
    if layer.num_layers == 1 and layer.dropout > 0:
        step.problem("dropout", f"is {layer.dropout}, but dropout acts between stacked layers and num_layers is 1")
    if getattr(layer, "proj_size", 0) >= layer.hidden_size:
        step.problem("proj_size", f"is {layer.proj_size}, but it must be smaller than hidden_size "
                                  f"({layer.hidden_size})")
    if not step.takes("steps"):
        return step.output(None)
    step.size("input_size", step.shape.features)
    width = (getattr(layer, "proj_size", 0) or layer.hidden_size) * (2 if layer.bidirectional else 1)
    step.output(width if layer.output == "last" else Steps(step.shape.length, width))


@builder("shared", "shape", "causal_self_attention")
def _causal_self_attention(step: Step) -> None:
    layer = step.layer
    if layer.embed_dim is not None and layer.embed_dim % layer.num_heads:
        step.problem("num_heads", f"is {layer.num_heads}, but embed_dim ({layer.embed_dim}) is not divisible by it")
    if not step.takes("steps"):
        return
    if layer.embed_dim is None and step.shape.features % layer.num_heads:
        step.problem("num_heads", f"is {layer.num_heads}, but {step.where()}, which is not divisible by it")
    step.size("embed_dim", step.shape.features)


@builder("shared", "shape", "residual")
def _residual(step: Step) -> None:
    """y = x + f(x): its layers walk from the input's shape and must give it back."""
    shape, source = step.shape, step.result.source
    walk(step.layer.layers, shape, step.data, step.result, step.place)
    if shape is not None and step.result.shape is not None and step.result.shape != shape:
        inner = step.where()
        step.result.shape, step.result.source = shape, source
        step.problem("layers", f"must give back the shape they take ({what(shape)}) for x + f(x), but {inner}")
    step.result.shape, step.result.source = shape, source


def _layer_at(layers: list[Any], place: Place) -> Any:
    layer = layers[place[0]]
    for index in place[1:]:
        layer = layer.layers[index]
    return layer


def resolve(spec: Spec, features: Shape) -> Spec:
    """A copy of ``spec`` with every inferable size filled in (layer ``in_features``, ``in_channels``,
    ``num_features``, ``normalized_shape``, ``num_embeddings``, ``input_size``, ...), from one sample's
    shape (``features``)."""
    spec = spec.model_copy(deep=True)
    for (place, name), value in walk(spec.model.layers, features, spec.data).fills.items():
        setattr(_layer_at(spec.model.layers, place), name, value)
    return spec
