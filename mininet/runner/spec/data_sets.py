"""The data tables of a spec: ``[data] type = ...``; the data sets themselves are in ``mininet.runner.data``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt

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
