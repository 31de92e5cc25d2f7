"""The losses of a spec: ``[loss] type = ...``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..registry import spec_component
from .base import Component, NonNegFloat, PosFloat


@spec_component("loss")
class MSESpec(Component):
    """Mean squared error against one-hot targets."""

    builds = "MSELoss"
    type: Literal["mse"] = "mse"
    reduction: Literal["mean", "sum"] = "mean"


@spec_component("loss")
class L1Spec(Component):
    """Mean absolute error against one-hot targets."""

    builds = "L1Loss"
    type: Literal["l1"] = "l1"
    reduction: Literal["mean", "sum"] = "mean"


@spec_component("loss")
class HuberSpec(Component):
    """Huber loss against one-hot targets."""

    builds = "HuberLoss"
    type: Literal["huber"] = "huber"
    delta: PosFloat = 1.0
    reduction: Literal["mean", "sum"] = "mean"


@spec_component("loss")
class CrossEntropySpec(Component):
    """Cross entropy of logits against class indices."""

    builds = "CrossEntropyLoss"
    tensors = ("weight",)
    type: Literal["cross_entropy"] = "cross_entropy"
    weight: list[NonNegFloat] | None = Field(None, description="one weight per class")
    label_smoothing: Annotated[float, Field(ge=0, le=1)] = 0.0
    reduction: Literal["mean", "sum"] = "mean"


@spec_component("loss")
class NLLSpec(Component):
    """Negative log likelihood of log-probabilities against class indices (after a log_softmax layer,
    it is cross_entropy in two steps)."""

    builds = "NLLLoss"
    tensors = ("weight",)
    type: Literal["nll"] = "nll"
    weight: list[NonNegFloat] | None = Field(None, description="one weight per class")
    reduction: Literal["mean", "sum"] = "mean"


@spec_component("loss")
class BCEWithLogitsSpec(Component):
    """Binary cross entropy of logits against one-hot targets (one sigmoid per output)."""

    builds = "BCEWithLogitsLoss"
    type: Literal["bce_with_logits"] = "bce_with_logits"
    reduction: Literal["mean", "sum"] = "mean"


#: losses whose target is the one-hot encoding of the class index (the report's MSE encoding)
ONE_HOT_LOSSES = ("mse", "l1", "huber", "bce_with_logits")
