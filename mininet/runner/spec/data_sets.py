"""The data tables of a spec: ``[data] type = ...``; the data sets themselves are in ``mininet.runner.data``."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, PositiveInt

from ..data.samples import Steps
from ..registry import spec_component
from .base import NonNegFloat, PosFloat, Strict


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


# --------------------------------------------------------------------------- sequences
@spec_component("data")
class ParityData(Strict):
    """Bit strings of ``length`` steps (one feature, 0 or 1, per step); the label is their parity (1 when
    the number of ones is odd): a sequence task for recurrent models, one label per sequence."""

    type: Literal["parity"] = "parity"
    length: Annotated[int, Field(ge=2)] = 8
    n_train: PositiveInt = Field(1000, description="training sequences")
    n_test: PositiveInt = Field(1000, description="test sequences")
    #: one label per sequence (a text has one per time step)
    targets_per_step: ClassVar[bool] = False

    def shape(self):
        return Steps(self.length, 1), 2


@spec_component("data")
class TextData(Strict):
    """Next-character prediction on a text: windows of ``context`` characters, each target the character
    after each input character (a label per time step). ``path`` is a UTF-8 file relative to the spec, or
    left out for the shipped text (``mininet/runner/data/texts``, Alice's Adventures in Wonderland). The
    vocabulary is the text's sorted characters; the first windows train, the last ``test_fraction`` test."""

    type: Literal["text"] = "text"
    path: str | None = None
    context: Annotated[int, Field(ge=1)] = 32
    test_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.1
    max_windows: PositiveInt | None = Field(None, description="use only the first windows (a shorter run)")
    targets_per_step: ClassVar[bool] = True
