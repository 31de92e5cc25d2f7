"""The layers of a spec's model: ``[[model.layers]] type = ...``, each building the torch.nn class
of the same name on the torch backend and mininet's on the other."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PositiveInt

from ..registry import spec_component
from .base import Component, Fraction, InitName, PosFloat, Strict


class InitSpec(Strict):
    """How a Linear or Conv2d layer's weight and bias are initialised (names from ``mininet list``)."""

    weight: InitName = "torch_default"
    bias: InitName = "torch_default"


@spec_component("layer")
class LinearSpec(Component):
    """Affine layer; ``in_features`` may be left out and is inferred from the previous layer."""

    builds = "Linear"
    not_arguments = ("init",)
    type: Literal["linear"] = "linear"
    in_features: PositiveInt | None = None
    out_features: PositiveInt
    bias: bool = True
    init: InitSpec | None = Field(None, description="overrides model.init for this layer")


@spec_component("layer")
class Conv2dSpec(Component):
    """2-D convolution of images (square kernel); ``in_channels`` may be left out and is inferred from the
    previous layer or the data."""

    builds = "Conv2d"
    not_arguments = ("init",)
    type: Literal["conv2d"] = "conv2d"
    in_channels: PositiveInt | None = None
    out_channels: PositiveInt
    kernel_size: PositiveInt
    stride: PositiveInt = 1
    padding: Annotated[int, Field(ge=0)] = 0
    dilation: PositiveInt = 1
    groups: PositiveInt = 1
    bias: bool = True
    init: InitSpec | None = Field(None, description="overrides model.init for this layer")


@spec_component("layer")
class MaxPool2dSpec(Component):
    """2-D max pooling of images (square windows); ``stride`` defaults to ``kernel_size``."""

    builds = "MaxPool2d"
    type: Literal["max_pool2d"] = "max_pool2d"
    kernel_size: PositiveInt
    stride: PositiveInt | None = None
    padding: Annotated[int, Field(ge=0)] = 0
    ceil_mode: bool = False


@spec_component("layer")
class AvgPool2dSpec(MaxPool2dSpec):
    """2-D average pooling of images (square windows); ``stride`` defaults to ``kernel_size``."""

    builds = "AvgPool2d"
    type: Literal["avg_pool2d"] = "avg_pool2d"
    count_include_pad: bool = True


@spec_component("layer")
class FlattenSpec(Component):
    """Flattens each image (channels, height, width) into one vector, for the linear layers after it."""

    builds = "Flatten"
    type: Literal["flatten"] = "flatten"


@spec_component("layer")
class ReLUSpec(Component):
    builds = "ReLU"
    type: Literal["relu"] = "relu"


@spec_component("layer")
class LeakyReLUSpec(Component):
    """max(0, x) + negative_slope * min(0, x), element-wise."""

    builds = "LeakyReLU"
    type: Literal["leaky_relu"] = "leaky_relu"
    negative_slope: float = 0.01


@spec_component("layer")
class TanhSpec(Component):
    builds = "Tanh"
    type: Literal["tanh"] = "tanh"


@spec_component("layer")
class SigmoidSpec(Component):
    builds = "Sigmoid"
    type: Literal["sigmoid"] = "sigmoid"


@spec_component("layer")
class ELUSpec(Component):
    builds = "ELU"
    type: Literal["elu"] = "elu"
    alpha: float = 1.0


@spec_component("layer")
class GELUSpec(Component):
    builds = "GELU"
    type: Literal["gelu"] = "gelu"
    approximate: Literal["none", "tanh"] = "none"


@spec_component("layer")
class SoftplusSpec(Component):
    builds = "Softplus"
    type: Literal["softplus"] = "softplus"
    beta: PosFloat = 1.0
    threshold: PosFloat = 20.0


@spec_component("layer")
class SiLUSpec(Component):
    builds = "SiLU"
    type: Literal["silu"] = "silu"


@spec_component("layer")
class IdentitySpec(Component):
    builds = "Identity"
    type: Literal["identity"] = "identity"


@spec_component("layer")
class DropoutSpec(Component):
    builds = "Dropout"
    type: Literal["dropout"] = "dropout"
    p: Fraction = 0.5


@spec_component("layer")
class BatchNormSpec(Component):
    """BatchNorm1d; ``num_features`` may be left out and is inferred from the previous layer."""

    builds = "BatchNorm1d"
    type: Literal["batch_norm"] = "batch_norm"
    num_features: PositiveInt | None = None
    eps: PosFloat = 1e-5
    momentum: Annotated[float, Field(ge=0, le=1)] | None = 0.1
    affine: bool = True
    track_running_stats: bool = True


@spec_component("layer")
class BatchNorm2dSpec(BatchNormSpec):
    """BatchNorm2d, per channel of images; ``num_features`` may be left out and is inferred from the
    previous layer or the data."""

    builds = "BatchNorm2d"
    type: Literal["batch_norm2d"] = "batch_norm2d"


@spec_component("layer")
class LayerNormSpec(Component):
    """LayerNorm over the last dimension; ``normalized_shape`` may be left out and is inferred from the
    previous layer."""

    builds = "LayerNorm"
    type: Literal["layer_norm"] = "layer_norm"
    normalized_shape: PositiveInt | None = None
    eps: PosFloat = 1e-5
    elementwise_affine: bool = True
    bias: bool = True


@spec_component("layer")
class SoftmaxSpec(Component):
    """Softmax along ``dim`` of the (batch, features) input; by default the last, the features."""

    builds = "Softmax"
    type: Literal["softmax"] = "softmax"
    dim: Annotated[int, Field(ge=-2, le=1)] = -1


@spec_component("layer")
class LogSoftmaxSpec(Component):
    """LogSoftmax along ``dim`` of the (batch, features) input; by default the last, the features. The
    layer before an ``nll`` loss."""

    builds = "LogSoftmax"
    type: Literal["log_softmax"] = "log_softmax"
    dim: Annotated[int, Field(ge=-2, le=1)] = -1


# --------------------------------------------------------------------------- sequences
@spec_component("layer")
class EmbeddingSpec(Component):
    """Token indices -> vectors: the first layer of a text model. ``num_embeddings`` may be left out and
    is the data's vocabulary size."""

    builds = "Embedding"
    type: Literal["embedding"] = "embedding"
    num_embeddings: PositiveInt | None = None
    embedding_dim: PositiveInt
    padding_idx: int | None = None
    max_norm: PosFloat | None = None
    norm_type: PosFloat = 2.0
    scale_grad_by_freq: bool = False


class _RecurrentSpec(Component):
    """torch.nn's recurrent layers on (batch, length, features) sequences (``batch_first``), giving the
    whole output sequence or only its last step (``output``); ``input_size`` may be left out."""

    type: str  # first among the fields, as in every layer table; each subclass fixes it
    input_size: PositiveInt | None = None
    hidden_size: PositiveInt
    num_layers: PositiveInt = 1
    bias: bool = True
    dropout: Fraction = Field(0.0, description="between stacked layers, while training")
    bidirectional: bool = False
    output: Literal["sequence", "last"] = Field("sequence", description="the output at every time step "
                                                "(batch, length, hidden), or at the last one (batch, hidden)")


@spec_component("layer")
class RNNSpec(_RecurrentSpec):
    __doc__ = _RecurrentSpec.__doc__.replace("torch.nn's recurrent layers", "torch.nn.RNN")
    builds = "RNNLayer"
    type: Literal["rnn"] = "rnn"
    nonlinearity: Literal["tanh", "relu"] = "tanh"


@spec_component("layer")
class LSTMSpec(_RecurrentSpec):
    __doc__ = _RecurrentSpec.__doc__.replace("torch.nn's recurrent layers", "torch.nn.LSTM")
    builds = "LSTMLayer"
    type: Literal["lstm"] = "lstm"
    proj_size: Annotated[int, Field(ge=0)] = 0


@spec_component("layer")
class GRUSpec(_RecurrentSpec):
    __doc__ = _RecurrentSpec.__doc__.replace("torch.nn's recurrent layers", "torch.nn.GRU")
    builds = "GRULayer"
    type: Literal["gru"] = "gru"


# --------------------------------------------------------------------------- transformers
@spec_component("layer")
class PositionEmbeddingSpec(Component):
    """Adds a learned vector per position to a sequence: ``x + weight[:length]``, weight drawn N(0, 1)
    as nn.Embedding's. Both sizes may be left out: the sequence's length and features."""

    builds = "PositionEmbedding"
    type: Literal["position_embedding"] = "position_embedding"
    num_positions: PositiveInt | None = None
    embedding_dim: PositiveInt | None = None


@spec_component("layer")
class CausalSelfAttentionSpec(Component):
    """nn.MultiheadAttention of a sequence with itself, each position attending to itself and the ones
    before (a causal mask): a decoder-only transformer's attention. ``embed_dim`` may be left out."""

    builds = "CausalSelfAttention"
    type: Literal["causal_self_attention"] = "causal_self_attention"
    embed_dim: PositiveInt | None = None
    num_heads: PositiveInt
    bias: bool = True


@spec_component("layer")
class ResidualSpec(Component):
    """``y = x + f(x)``, with ``f`` its own ``layers`` (a Sequential), which must keep the shape."""

    builds = "Residual"
    not_arguments = ("layers",)
    type: Literal["residual"] = "residual"
    # the union of every layer type, set by spec.experiment once all are registered
    layers: Annotated[list[Any], Field(min_length=1)]
