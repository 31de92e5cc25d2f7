"""One repetition's data set, drawn by a generator or read from a CSV file, normalised and cast.

Generators draw ``n_train + n_test`` points (training points first) in float64 on the CPU;
:func:`make_dataset` normalises with the training set's mean and std and casts to the run's dtype
and device. Labels are int64 class indices.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from ..registry import REGISTRY
from . import generated as _generated  # noqa: F401  (registers the generators)
from .csv_file import load_csv, read_csv
from .samples import Tokens
from .text import read_text, windows


@dataclass
class Dataset:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int

    @property
    def n_features(self) -> int:
        """Values per sample: a vector's width, or channels x height x width of an image."""
        return self.x_train[0].numel()

    @property
    def is_plane(self) -> bool:
        """Points of the plane (2 features), where decision boundaries can be drawn."""
        return self.x_train.dim() == 2 and self.x_train.shape[1] == 2


def make_dataset(spec, g: torch.Generator, base_dir: Path = Path("."),
                 dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> Dataset:
    """Draw (or read) one repetition's data set, normalised and cast."""
    if spec.type == "csv":
        xtr, ytr, xte, yte, n_classes = load_csv(spec, base_dir, g)
    elif spec.type == "text":
        text = read_text(spec, base_dir)
        (xtr, ytr, xte, yte), n_classes = windows(spec, text), len(text.chars)
    else:
        draw: Callable = REGISTRY.builders[("shared", "data", spec.type)]
        x, y, n_classes = draw(spec, spec.n_train + spec.n_test, g)
        xtr, ytr, xte, yte = x[: spec.n_train], y[: spec.n_train], x[spec.n_train:], y[spec.n_train:]
    if getattr(spec, "normalize", False):
        mean, std = xtr.mean(0), xtr.std(0)
        std = torch.where(std > 0, std, torch.ones_like(std))  # a constant column stays finite
        xtr, xte = (xtr - mean) / std, (xte - mean) / std
    cast = dict(dtype=dtype, device=device)
    if not xtr.is_floating_point():  # token indices stay int64
        cast = dict(device=device)
    return Dataset(xtr.to(**cast), ytr.to(device), xte.to(**cast), yte.to(device), n_classes)


def data_shape(spec, base_dir: Path = Path(".")) -> tuple[int | tuple[int, int, int], int]:
    """(one sample's shape, n_classes) of a data spec without drawing it (reads a CSV file's rows): a
    sample's shape is its number of features, or (channels, height, width) for images."""
    if spec.type == "csv":
        *_, n_classes = load_csv(spec, base_dir, torch.Generator().manual_seed(0))
        return read_csv(base_dir / spec.path, spec).n_features, n_classes
    if spec.type == "text":
        vocab = len(read_text(spec, base_dir).chars)
        return Tokens(spec.context, vocab), vocab
    return spec.shape()
