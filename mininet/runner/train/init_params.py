"""Initial parameters of one repetition: drawn once, by mininet.init, then loaded into both backends."""

from __future__ import annotations

import math

import torch

from mininet import init

from ..registry import builder


@builder("shared", "init", "torch_default")
def torch_default(t: torch.Tensor, g: torch.Generator, fan_in: int) -> None:
    """torch.nn.Linear's and Conv2d's own scheme: U(+-1/sqrt(fan_in)) for weight (kaiming_uniform a=sqrt(5))
    and bias."""
    if t.dim() >= 2:
        init.kaiming_uniform_(t, a=math.sqrt(5), generator=g)
    else:
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(t, -bound, bound, generator=g)


@builder("shared", "init", "xavier_normal")
def xavier_normal(t: torch.Tensor, g: torch.Generator, fan_in: int) -> None:
    """N(0, 2 / (fan_in + fan_out)): the report's weights."""
    init.xavier_normal_(t, generator=g)


@builder("shared", "init", "xavier_uniform")
def xavier_uniform(t: torch.Tensor, g: torch.Generator, fan_in: int) -> None:
    """U(+-sqrt(6 / (fan_in + fan_out)))."""
    init.xavier_uniform_(t, generator=g)


@builder("shared", "init", "kaiming_normal")
def kaiming_normal(t: torch.Tensor, g: torch.Generator, fan_in: int) -> None:
    """N(0, 2 / fan_in) (He, for ReLU)."""
    init.kaiming_normal_(t, nonlinearity="relu", generator=g)


@builder("shared", "init", "kaiming_uniform")
def kaiming_uniform(t: torch.Tensor, g: torch.Generator, fan_in: int) -> None:
    """U(+-sqrt(6 / fan_in)) (He, for ReLU)."""
    init.kaiming_uniform_(t, nonlinearity="relu", generator=g)


@builder("shared", "init", "zeros")
def zeros(t: torch.Tensor, g: torch.Generator, fan_in: int) -> None:
    """0 everywhere: the report's biases."""
    init.zeros_(t)


@builder("shared", "init", "ones")
def ones(t: torch.Tensor, g: torch.Generator, fan_in: int) -> None:
    """1 everywhere."""
    init.ones_(t)
