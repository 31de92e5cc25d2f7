"""The experiment spec: pydantic v2 models of a TOML file.

Every table forbids unknown keys, components are unions tagged by ``type`` and built from the
registry, and :meth:`Spec.resolved` fills what can be inferred (layer input widths). The spec never
names a backend class: backends are chosen when the spec is built (see ``runner.build``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

from .registry import REGISTRY, spec_component

NonNegFloat = Annotated[float, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, lt=1)]

InitName = Literal["torch_default", "xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform",
                   "zeros", "ones"]
#: inits that need a weight matrix's fans, so they cannot initialise a bias vector
MATRIX_ONLY_INITS = ("xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform")


class Strict(BaseModel):
    """Base of every spec table: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- data
class _Sized(Strict):
    #: (n_features, n_classes) of every generated data set of this type; subclasses override
    def shape(self) -> tuple[int, int]:
        return 2, 2

    n_train: PositiveInt = Field(1000, description="training points")
    n_test: PositiveInt = Field(1000, description="test points")
    normalize: bool = Field(True, description="standardise inputs with the training set's mean and std")


@spec_component("data")
class DiskData(_Sized):
    """The report's data: uniform in [0,1]^2, label 1 inside the circle of radius 1/sqrt(2*pi) at (0.5, 0.5)."""

    type: Literal["disk"] = "disk"


@spec_component("data")
class XorData(_Sized):
    """Uniform in [-1,1]^2, label 1 where x0 * x1 > 0; Gaussian noise added to the inputs."""

    type: Literal["xor"] = "xor"
    noise: NonNegFloat = 0.1


@spec_component("data")
class SpiralsData(_Sized):
    """``classes`` interleaved spiral arms with Gaussian noise."""

    type: Literal["spirals"] = "spirals"
    classes: Annotated[int, Field(ge=2)] = 2
    turns: PosFloat = 1.5
    noise: NonNegFloat = 0.1

    def shape(self) -> tuple[int, int]:
        return 2, self.classes


@spec_component("data")
class MoonsData(_Sized):
    """Two interleaving half circles (sklearn's make_moons) with Gaussian noise."""

    type: Literal["moons"] = "moons"
    noise: NonNegFloat = 0.1


@spec_component("data")
class CirclesData(_Sized):
    """Two concentric circles (sklearn's make_circles), the inner one scaled by ``factor``."""

    type: Literal["circles"] = "circles"
    noise: NonNegFloat = 0.05
    factor: Annotated[float, Field(gt=0, lt=1)] = 0.5


@spec_component("data")
class BlobsData(_Sized):
    """``centers`` isotropic Gaussian blobs in ``features`` dimensions, centres uniform in [-box, box]."""

    type: Literal["blobs"] = "blobs"
    centers: Annotated[int, Field(ge=2)] = 3
    features: PositiveInt = 2
    std: PosFloat = 1.0
    box: PosFloat = 5.0

    def shape(self) -> tuple[int, int]:
        return self.features, self.centers


@spec_component("data")
class BarsData(_Sized):
    """Images of one bar, horizontal (class 0) or vertical (class 1), at a random row or column, on
    Gaussian noise: 1 channel of ``size`` x ``size`` pixels, for convolutional models."""

    type: Literal["bars"] = "bars"
    size: Annotated[int, Field(ge=2)] = 8
    noise: NonNegFloat = 0.5

    def shape(self) -> tuple[tuple[int, int, int], int]:
        return (1, self.size, self.size), 2


@spec_component("data")
class CsvData(Strict):
    """A user's CSV file: numeric feature columns and one integer class-label column.

    ``path`` (and ``test_path``) are relative to the spec file. Without ``test_path`` the rows are split
    at random (per repetition seed) with ``test_fraction`` of them for testing.
    """

    type: Literal["csv"] = "csv"
    path: str
    test_path: str | None = None
    label_column: str | int = Field(-1, description="name (with a header) or index of the label column")
    header: bool = True
    delimiter: str = ","
    test_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.2
    normalize: bool = True


# --------------------------------------------------------------------------- model
class InitSpec(Strict):
    """How a Linear or Conv2d layer's weight and bias are initialised (names from ``mininet list``)."""

    weight: InitName = "torch_default"
    bias: InitName = "torch_default"


@spec_component("layer")
class LinearSpec(Strict):
    """Affine layer; ``in_features`` may be left out and is inferred from the previous layer."""

    type: Literal["linear"] = "linear"
    in_features: PositiveInt | None = None
    out_features: PositiveInt
    bias: bool = True
    init: InitSpec | None = Field(None, description="overrides model.init for this layer")


@spec_component("layer")
class Conv2dSpec(Strict):
    """2-D convolution of images (square kernel); ``in_channels`` may be left out and is inferred from the
    previous layer or the data."""

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
class MaxPool2dSpec(Strict):
    """2-D max pooling of images (square windows); ``stride`` defaults to ``kernel_size``."""

    type: Literal["max_pool2d"] = "max_pool2d"
    kernel_size: PositiveInt
    stride: PositiveInt | None = None
    padding: Annotated[int, Field(ge=0)] = 0
    ceil_mode: bool = False


@spec_component("layer")
class AvgPool2dSpec(MaxPool2dSpec):
    """2-D average pooling of images (square windows); ``stride`` defaults to ``kernel_size``."""

    type: Literal["avg_pool2d"] = "avg_pool2d"
    count_include_pad: bool = True


@spec_component("layer")
class FlattenSpec(Strict):
    """Flattens each image (channels, height, width) into one vector, for the linear layers after it."""

    type: Literal["flatten"] = "flatten"


@spec_component("layer")
class ReLUSpec(Strict):
    type: Literal["relu"] = "relu"


@spec_component("layer")
class LeakyReLUSpec(Strict):
    type: Literal["leaky_relu"] = "leaky_relu"
    negative_slope: float = 0.01


@spec_component("layer")
class TanhSpec(Strict):
    type: Literal["tanh"] = "tanh"


@spec_component("layer")
class SigmoidSpec(Strict):
    type: Literal["sigmoid"] = "sigmoid"


@spec_component("layer")
class ELUSpec(Strict):
    type: Literal["elu"] = "elu"
    alpha: float = 1.0


@spec_component("layer")
class GELUSpec(Strict):
    type: Literal["gelu"] = "gelu"
    approximate: Literal["none", "tanh"] = "none"


@spec_component("layer")
class SoftplusSpec(Strict):
    type: Literal["softplus"] = "softplus"
    beta: PosFloat = 1.0
    threshold: PosFloat = 20.0


@spec_component("layer")
class SiLUSpec(Strict):
    type: Literal["silu"] = "silu"


@spec_component("layer")
class IdentitySpec(Strict):
    type: Literal["identity"] = "identity"


@spec_component("layer")
class DropoutSpec(Strict):
    type: Literal["dropout"] = "dropout"
    p: Fraction = 0.5


@spec_component("layer")
class BatchNormSpec(Strict):
    """BatchNorm1d; ``num_features`` may be left out and is inferred from the previous layer."""

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

    type: Literal["batch_norm2d"] = "batch_norm2d"


@spec_component("layer")
class LayerNormSpec(Strict):
    """LayerNorm over the last dimension; ``normalized_shape`` may be left out and is inferred from the
    previous layer."""

    type: Literal["layer_norm"] = "layer_norm"
    normalized_shape: PositiveInt | None = None
    eps: PosFloat = 1e-5
    elementwise_affine: bool = True
    bias: bool = True


@spec_component("layer")
class SoftmaxSpec(Strict):
    """Softmax along ``dim`` of the (batch, features) input; by default the last, the features."""

    type: Literal["softmax"] = "softmax"
    dim: Annotated[int, Field(ge=-2, le=1)] = -1


@spec_component("layer")
class LogSoftmaxSpec(Strict):
    """LogSoftmax along ``dim`` of the (batch, features) input; by default the last, the features. The
    layer before an ``nll`` loss."""

    type: Literal["log_softmax"] = "log_softmax"
    dim: Annotated[int, Field(ge=-2, le=1)] = -1


# --------------------------------------------------------------------------- losses
@spec_component("loss")
class MSESpec(Strict):
    """Mean squared error against one-hot targets."""

    type: Literal["mse"] = "mse"
    reduction: Literal["mean", "sum"] = "mean"


@spec_component("loss")
class L1Spec(Strict):
    """Mean absolute error against one-hot targets."""

    type: Literal["l1"] = "l1"
    reduction: Literal["mean", "sum"] = "mean"


@spec_component("loss")
class HuberSpec(Strict):
    """Huber loss against one-hot targets."""

    type: Literal["huber"] = "huber"
    delta: PosFloat = 1.0
    reduction: Literal["mean", "sum"] = "mean"


@spec_component("loss")
class CrossEntropySpec(Strict):
    """Cross entropy of logits against class indices."""

    type: Literal["cross_entropy"] = "cross_entropy"
    weight: list[NonNegFloat] | None = Field(None, description="one weight per class")
    label_smoothing: Annotated[float, Field(ge=0, le=1)] = 0.0
    reduction: Literal["mean", "sum"] = "mean"


@spec_component("loss")
class NLLSpec(Strict):
    """Negative log likelihood of log-probabilities against class indices (after a log_softmax layer,
    it is cross_entropy in two steps)."""

    type: Literal["nll"] = "nll"
    weight: list[NonNegFloat] | None = Field(None, description="one weight per class")
    reduction: Literal["mean", "sum"] = "mean"


@spec_component("loss")
class BCEWithLogitsSpec(Strict):
    """Binary cross entropy of logits against one-hot targets (one sigmoid per output)."""

    type: Literal["bce_with_logits"] = "bce_with_logits"
    reduction: Literal["mean", "sum"] = "mean"


#: losses whose target is the one-hot encoding of the class index (the report's MSE encoding)
ONE_HOT_LOSSES = ("mse", "l1", "huber", "bce_with_logits")


# --------------------------------------------------------------------------- optimizers
Momentum = Annotated[float, Field(ge=0, lt=1)]
Beta = Annotated[float, Field(ge=0, lt=1)]


@spec_component("optimizer")
class SGDSpec(Strict):
    type: Literal["sgd"] = "sgd"
    lr: PosFloat
    momentum: Momentum = 0.0
    dampening: Annotated[float, Field(ge=0, le=1)] = 0.0
    weight_decay: NonNegFloat = 0.0
    nesterov: bool = False


@spec_component("optimizer")
class AdamSpec(Strict):
    type: Literal["adam"] = "adam"
    lr: PosFloat = 1e-3
    betas: tuple[Beta, Beta] = (0.9, 0.999)
    eps: PosFloat = 1e-8
    weight_decay: NonNegFloat = 0.0
    amsgrad: bool = False


@spec_component("optimizer")
class AdamWSpec(Strict):
    type: Literal["adamw"] = "adamw"
    lr: PosFloat = 1e-3
    betas: tuple[Beta, Beta] = (0.9, 0.999)
    eps: PosFloat = 1e-8
    weight_decay: NonNegFloat = 1e-2
    amsgrad: bool = False


@spec_component("optimizer")
class RMSpropSpec(Strict):
    type: Literal["rmsprop"] = "rmsprop"
    lr: PosFloat = 1e-2
    alpha: Beta = 0.99
    eps: PosFloat = 1e-8
    weight_decay: NonNegFloat = 0.0
    momentum: Momentum = 0.0
    centered: bool = False


@spec_component("optimizer")
class AdagradSpec(Strict):
    type: Literal["adagrad"] = "adagrad"
    lr: PosFloat = 1e-2
    lr_decay: NonNegFloat = 0.0
    weight_decay: NonNegFloat = 0.0
    initial_accumulator_value: NonNegFloat = 0.0
    eps: PosFloat = 1e-10


# --------------------------------------------------------------------------- schedulers (stepped once per epoch)
@spec_component("scheduler")
class StepLRSpec(Strict):
    type: Literal["step"] = "step"
    step_size: PositiveInt
    gamma: PosFloat = 0.1


@spec_component("scheduler")
class ExponentialLRSpec(Strict):
    type: Literal["exponential"] = "exponential"
    gamma: PosFloat


@spec_component("scheduler")
class CosineAnnealingLRSpec(Strict):
    type: Literal["cosine"] = "cosine"
    T_max: PositiveInt
    eta_min: NonNegFloat = 0.0


# --------------------------------------------------------------------------- the tagged unions
def _union(kind: str) -> Any:
    classes = tuple(REGISTRY.spec_classes(kind))
    return Annotated[Union[classes], Field(discriminator="type")]  # type: ignore[valid-type]


DataSpec = _union("data")
LayerSpec = _union("layer")
LossSpec = _union("loss")
OptimizerSpec = _union("optimizer")
SchedulerSpec = _union("scheduler")


class ModelSpec(Strict):
    init: InitSpec = Field(default_factory=InitSpec, description="default init of every Linear and Conv2d layer")
    layers: Annotated[list[LayerSpec], Field(min_length=1)]  # type: ignore[valid-type]


class TrainSpec(Strict):
    epochs: PositiveInt
    batch_size: PositiveInt
    shuffle: bool = True


class Spec(Strict):
    """One experiment: data, model, loss, optimizer, training schedule; trained ``repetitions`` times."""

    # names label files of a run directory; "[k=v,...]" names the points of a sweep
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.+\-\[\]=,]+$")]
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 0
    repetitions: PositiveInt = 1
    dtype: Literal["float32", "float64"] = "float32"
    device: Literal["cpu", "cuda"] = "cpu"
    data: DataSpec  # type: ignore[valid-type]
    model: ModelSpec
    loss: LossSpec  # type: ignore[valid-type]
    optimizer: OptimizerSpec  # type: ignore[valid-type]
    scheduler: SchedulerSpec | None = None  # type: ignore[valid-type]
    train: TrainSpec
    sweep: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(
        default_factory=dict, description="key path -> values; one run per point of the cartesian product")

    @field_validator("repetitions", mode="before")
    @classmethod
    def _repetitions_is_int(cls, v: Any) -> Any:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError("repetitions must be a positive integer")
        return v
