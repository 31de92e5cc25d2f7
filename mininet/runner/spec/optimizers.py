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


@spec_component("scheduler")
class MultiStepLRSpec(Component):
    """lr times ``gamma`` at each epoch of ``milestones``."""

    builds = "MultiStepLR"
    type: Literal["multistep"] = "multistep"
    milestones: Annotated[list[PositiveInt], Field(min_length=1)]
    gamma: PosFloat = 0.1


@spec_component("scheduler")
class ConstantLRSpec(Component):
    """lr times ``factor`` for the first ``total_iters`` epochs, then the optimizer's lr."""

    builds = "ConstantLR"
    type: Literal["constant"] = "constant"
    factor: Annotated[float, Field(gt=0, le=1)] = 1 / 3
    total_iters: PositiveInt = 5


@spec_component("scheduler")
class LinearLRSpec(Component):
    """lr times a factor going linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    epochs (a warm-up, by default)."""

    builds = "LinearLR"
    type: Literal["linear"] = "linear"
    start_factor: Annotated[float, Field(gt=0, le=1)] = 1 / 3
    end_factor: Annotated[float, Field(ge=0, le=1)] = 1.0
    total_iters: PositiveInt = 5


@spec_component("scheduler")
class PolynomialLRSpec(Component):
    """lr times (1 - epoch / total_iters) ** power, then 0."""

    builds = "PolynomialLR"
    type: Literal["polynomial"] = "polynomial"
    total_iters: PositiveInt = 5
    power: PosFloat = 1.0


@spec_component("scheduler")
class CosineAnnealingWarmRestartsSpec(Component):
    """Cosine annealing to ``eta_min`` restarted after ``T_0`` epochs, each period ``T_mult`` times
    the last (SGDR)."""

    builds = "CosineAnnealingWarmRestarts"
    type: Literal["cosine_warm_restarts"] = "cosine_warm_restarts"
    T_0: PositiveInt
    T_mult: PositiveInt = 1
    eta_min: NonNegFloat = 0.0


@spec_component("scheduler")
class OneCycleLRSpec(Component):
    """The 1cycle policy over ``total_steps`` epochs (at least the training's epochs): lr up from
    max_lr / div_factor to ``max_lr``, then down to max_lr / (div_factor * final_div_factor); with
    ``cycle_momentum``, the optimizer's momentum (or Adam's beta1) cycles the other way."""

    builds = "OneCycleLR"
    type: Literal["one_cycle"] = "one_cycle"
    max_lr: PosFloat
    total_steps: PositiveInt
    pct_start: Annotated[float, Field(gt=0, lt=1)] = 0.3
    anneal_strategy: Literal["cos", "linear"] = "cos"
    cycle_momentum: bool = True
    base_momentum: Annotated[float, Field(ge=0, lt=1)] = 0.85
    max_momentum: Annotated[float, Field(ge=0, lt=1)] = 0.95
    div_factor: PosFloat = 25.0
    final_div_factor: PosFloat = 1e4
    three_phase: bool = False


@spec_component("scheduler")
class ReduceLROnPlateauSpec(Component):
    """lr times ``factor`` once ``monitor`` (after each epoch) has not improved for ``patience``
    epochs. It watches each repetition's own metric, so its repetitions train one by one."""

    builds = "ReduceLROnPlateau"
    not_arguments = ("monitor",)
    type: Literal["reduce_on_plateau"] = "reduce_on_plateau"
    monitor: Literal["train_loss", "test_loss", "train_acc", "test_acc"] = "train_loss"
    mode: Literal["min", "max"] = "min"
    factor: Annotated[float, Field(gt=0, lt=1)] = 0.1
    patience: Annotated[int, Field(ge=0)] = 10
    threshold: NonNegFloat = 1e-4
    threshold_mode: Literal["rel", "abs"] = "rel"
    cooldown: Annotated[int, Field(ge=0)] = 0
    min_lr: NonNegFloat = 0.0
    eps: NonNegFloat = 1e-8
