"""The optimizers and learning-rate schedulers of a spec: ``[optimizer]`` and ``[scheduler]``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt

from ..registry import spec_component

from .base import Component, NonNegFloat, PosFloat


Momentum = Annotated[float, Field(ge=0, lt=1)]
Beta = Annotated[float, Field(ge=0, lt=1)]


@spec_component("optimizer")
class SGDSpec(Component):
    builds = "SGD"
    type: Literal["sgd"] = "sgd"
    lr: PosFloat
    momentum: Momentum = 0.0
    dampening: Annotated[float, Field(ge=0, le=1)] = 0.0
    weight_decay: NonNegFloat = 0.0
    nesterov: bool = False


@spec_component("optimizer")
class AdamSpec(Component):
    builds = "Adam"
    type: Literal["adam"] = "adam"
    lr: PosFloat = 1e-3
    betas: tuple[Beta, Beta] = (0.9, 0.999)
    eps: PosFloat = 1e-8
    weight_decay: NonNegFloat = 0.0
    amsgrad: bool = False


@spec_component("optimizer")
class AdamWSpec(Component):
    builds = "AdamW"
    type: Literal["adamw"] = "adamw"
    lr: PosFloat = 1e-3
    betas: tuple[Beta, Beta] = (0.9, 0.999)
    eps: PosFloat = 1e-8
    weight_decay: NonNegFloat = 1e-2
    amsgrad: bool = False


@spec_component("optimizer")
class RMSpropSpec(Component):
    builds = "RMSprop"
    type: Literal["rmsprop"] = "rmsprop"
    lr: PosFloat = 1e-2
    alpha: Beta = 0.99
    eps: PosFloat = 1e-8
    weight_decay: NonNegFloat = 0.0
    momentum: Momentum = 0.0
    centered: bool = False


@spec_component("optimizer")
class AdagradSpec(Component):
    builds = "Adagrad"
    type: Literal["adagrad"] = "adagrad"
    lr: PosFloat = 1e-2
    lr_decay: NonNegFloat = 0.0
    weight_decay: NonNegFloat = 0.0
    initial_accumulator_value: NonNegFloat = 0.0
    eps: PosFloat = 1e-10


# --------------------------------------------------------------------------- schedulers (stepped once per epoch)
@spec_component("scheduler")
class StepLRSpec(Component):
    builds = "StepLR"
    type: Literal["step"] = "step"
    step_size: PositiveInt
    gamma: PosFloat = 0.1


@spec_component("scheduler")
class ExponentialLRSpec(Component):
    builds = "ExponentialLR"
    type: Literal["exponential"] = "exponential"
    gamma: PosFloat


@spec_component("scheduler")
class CosineAnnealingLRSpec(Component):
    builds = "CosineAnnealingLR"
    type: Literal["cosine"] = "cosine"
    T_max: PositiveInt
    eta_min: NonNegFloat = 0.0
