"""What every spec table shares: strict validation, a few constrained number types, and the class
attributes by which a component names what it builds.

A component spec (a layer, loss, optimizer or scheduler) states the torch.nn / mininet class it
builds in ``builds``; its pydantic fields are that class's constructor arguments, by name, except
those listed in ``not_arguments`` (e.g. a layer's ``init``, which the runner applies itself). Fields
named in ``tensors`` are lists in TOML and tensors in the constructor (class weights). One generic
builder (``mininet.runner.train.build``) constructs it on either backend from that alone.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class Component(Strict):
    """Base of every layer, loss, optimizer and scheduler spec."""

    #: the class of ``torch.nn`` (and ``mininet``), ``torch.optim`` or ``torch.optim.lr_scheduler`` built
    builds: ClassVar[str]
    #: fields that are not constructor arguments
    not_arguments: ClassVar[tuple[str, ...]] = ()
    #: fields given as lists in TOML and passed to the constructor as tensors of the run's dtype
    tensors: ClassVar[tuple[str, ...]] = ()
