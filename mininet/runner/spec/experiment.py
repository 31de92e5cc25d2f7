"""The whole spec: the tagged unions of every registered component, the model, the training
schedule and :class:`Spec` itself.

The unions are generated from the registry, so a component class decorated with
``spec_component`` in ``layers.py``, ``losses.py``, ... is accepted here without naming it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import Field, PositiveInt, field_validator

from ..registry import REGISTRY
from . import data_sets as _data_sets, layers as _layers, losses as _losses, optimizers as _optimizers  # noqa: F401
from .base import Strict
from .layers import InitSpec, ResidualSpec

def _union(kind: str) -> Any:
    classes = tuple(REGISTRY.spec_classes(kind))
    return Annotated[Union[classes], Field(discriminator="type")]  # type: ignore[valid-type]


DataSpec = _union("data")
LayerSpec = _union("layer")
LossSpec = _union("loss")
OptimizerSpec = _union("optimizer")
SchedulerSpec = _union("scheduler")


def _nest_layers() -> None:
    """A residual layer holds layers of any type, itself included."""
    ResidualSpec.model_fields["layers"].annotation = list[LayerSpec]
    ResidualSpec.model_rebuild(force=True)


_nest_layers()


class ModelSpec(Strict):
    """The model: its layers in order (a Sequential), and the default init of their weights."""

    init: InitSpec = Field(default_factory=InitSpec, description="default init of every Linear and Conv2d layer")
    layers: Annotated[list[LayerSpec], Field(min_length=1)]  # type: ignore[valid-type]


class TrainSpec(Strict):
    """The training schedule: epochs of mini-batches over the training set, reshuffled every epoch."""

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
    plugins: list[str] = Field(default_factory=list, description="Python files (relative to the spec) that "
                                                                 "register components; see spec/plugins.py")

    @field_validator("repetitions", mode="before")
    @classmethod
    def _repetitions_is_int(cls, v: Any) -> Any:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError("repetitions must be a positive integer")
        return v


def refresh_unions() -> None:
    """Re-read the registry into the tagged unions of :class:`ModelSpec` and :class:`Spec`, after a
    plugin registered components: the models are rebuilt in place, so every module that imported
    them validates the new types too."""
    global DataSpec, LayerSpec, LossSpec, OptimizerSpec, SchedulerSpec
    DataSpec, LayerSpec, LossSpec = _union("data"), _union("layer"), _union("loss")
    OptimizerSpec, SchedulerSpec = _union("optimizer"), _union("scheduler")
    _nest_layers()
    ModelSpec.model_fields["layers"].annotation = list[LayerSpec]  # its min_length stays in the metadata
    for name, union in (("data", DataSpec), ("loss", LossSpec), ("optimizer", OptimizerSpec),
                        ("scheduler", Optional[SchedulerSpec])):
        Spec.model_fields[name].annotation = union
    ModelSpec.model_rebuild(force=True)
    Spec.model_rebuild(force=True)
