"""The seeded data sets: the report's disk, a few classic 2-D problems and images of bars.

Each generator is registered as ``("shared", "data", type)`` and draws ``n`` points from one
``torch.Generator``, in float64 on the CPU: ``draw(spec, n, g) -> (x, y, n_classes)``. It reads the
fields of its data spec (``mininet.runner.spec.data_sets``) by name.
"""

from __future__ import annotations

import math

import torch

from ..registry import builder

F64 = torch.float64


def _shuffle(x: torch.Tensor, y: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    perm = torch.randperm(len(y), generator=g)
    return x[perm], y[perm]


@builder("shared", "data", "disk")
def disk(spec, n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, int]:
    x = torch.rand(n, 2, generator=g, dtype=F64)
    y = ((x - 0.5).pow(2).sum(1) < 1 / (2 * math.pi)).long()
    return x, y, 2


@builder("shared", "data", "xor")
def xor(spec, n: int, g: torch.Generator):
    x = torch.rand(n, 2, generator=g, dtype=F64) * 2 - 1
    y = (x[:, 0] * x[:, 1] > 0).long()
    return x + spec.noise * torch.randn(n, 2, generator=g, dtype=F64), y, 2


@builder("shared", "data", "spirals")
def spirals(spec, n: int, g: torch.Generator):
    y = torch.arange(n) % spec.classes
    t = torch.rand(n, generator=g, dtype=F64)
    angle = 2 * math.pi * (spec.turns * t + y.to(F64) / spec.classes)
    x = torch.stack([t * torch.cos(angle), t * torch.sin(angle)], dim=1)
    x = x + spec.noise * torch.randn(n, 2, generator=g, dtype=F64)
    return *_shuffle(x, y, g), spec.classes


@builder("shared", "data", "moons")
def moons(spec, n: int, g: torch.Generator):
    y = torch.arange(n) % 2
    angle = math.pi * torch.rand(n, generator=g, dtype=F64)
    outer = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    inner = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], dim=1)
    x = torch.where(y.unsqueeze(1) == 0, outer, inner)
    x = x + spec.noise * torch.randn(n, 2, generator=g, dtype=F64)
    return *_shuffle(x, y, g), 2


@builder("shared", "data", "circles")
def circles(spec, n: int, g: torch.Generator):
    y = torch.arange(n) % 2
    angle = 2 * math.pi * torch.rand(n, generator=g, dtype=F64)
    radius = torch.where(y == 0, 1.0, spec.factor).to(F64)
    x = radius.unsqueeze(1) * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    x = x + spec.noise * torch.randn(n, 2, generator=g, dtype=F64)
    return *_shuffle(x, y, g), 2


@builder("shared", "data", "blobs")
def blobs(spec, n: int, g: torch.Generator):
    centers = (torch.rand(spec.centers, spec.features, generator=g, dtype=F64) * 2 - 1) * spec.box
    y = torch.randint(spec.centers, (n,), generator=g)
    x = centers[y] + spec.std * torch.randn(n, spec.features, generator=g, dtype=F64)
    return x, y, spec.centers


@builder("shared", "data", "bars")
def bars(spec, n: int, g: torch.Generator):
    y = torch.randint(2, (n,), generator=g)
    where = torch.randint(spec.size, (n, 1, 1), generator=g)  # the bar's row (class 0) or column (class 1)
    pixels = torch.arange(spec.size)
    rows, cols = pixels.view(1, -1, 1) == where, pixels.view(1, 1, -1) == where
    x = torch.where(y.view(-1, 1, 1) == 0, rows, cols).to(F64)
    x = x + spec.noise * torch.randn(n, spec.size, spec.size, generator=g, dtype=F64)
    return x.unsqueeze(1), y, 2  # one channel


@builder("shared", "data", "parity")
def parity(spec, n: int, g: torch.Generator):
    bits = torch.randint(2, (n, spec.length, 1), generator=g)
    return bits.to(F64), bits.sum((1, 2)) % 2, 2
