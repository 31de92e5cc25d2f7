"""Backend-neutral, seeded data sets: the report's disk, a few classic 2-D problems, images of bars,
or a CSV file.

Each generator draws ``n_train + n_test`` points from one ``torch.Generator`` (training points
first), in float64 on the CPU; :func:`make_dataset` normalises with the training set's mean and std
and casts to the run's dtype and device. Labels are int64 class indices.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .registry import REGISTRY, builder
from .spec import CsvData

F64 = torch.float64


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


class DataError(ValueError):
    """A data set that cannot be built (e.g. a CSV file with a bad cell); names the file and line."""


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


# --------------------------------------------------------------------------- CSV
@dataclass
class CsvTable:
    features: torch.Tensor
    labels: list[str]
    n_features: int


def read_csv(path: Path, spec: CsvData) -> CsvTable:
    """Parse a CSV file into float64 features and raw label strings; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    rows = list(csv.reader(text.splitlines(), delimiter=spec.delimiter))
    first = 1
    header: list[str] | None = None
    if spec.header:
        if not rows:
            raise DataError(f"{path}: empty file, expected a header line")
        header, rows, first = [h.strip() for h in rows[0]], rows[1:], 2
    numbered = [(i + first, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not numbered:
        raise DataError(f"{path}: no data rows")
    width = len(numbered[0][1]) if header is None else len(header)
    label_idx = label_index(spec.label_column, header, width, path)
    feats, labels = [], []
    for line, row in numbered:
        if len(row) != width:
            raise DataError(f"{path}, line {line}: {len(row)} columns, expected {width}")
        try:
            feats.append([float(c) for j, c in enumerate(row) if j != label_idx])
        except ValueError:
            bad = next(c for j, c in enumerate(row) if j != label_idx and not _is_float(c))
            raise DataError(f"{path}, line {line}: feature value {bad!r} is not a number") from None
        labels.append(row[label_idx].strip())
    return CsvTable(torch.tensor(feats, dtype=F64), labels, width - 1)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def label_index(column: str | int, header: list[str] | None, width: int, path: Path) -> int:
    if isinstance(column, str):
        if header is None:
            raise DataError(f"{path}: label_column {column!r} is a name but the file has no header "
                            "(set header = true or give a column index)")
        if column not in header:
            raise DataError(f"{path}: no column named {column!r}; columns are {', '.join(header)}")
        return header.index(column)
    if not -width <= column < width:
        raise DataError(f"{path}: label_column {column} is out of range for {width} columns")
    return column % width


def _class_indices(labels: list[str], classes: list[str]) -> torch.Tensor:
    lookup = {c: i for i, c in enumerate(classes)}
    return torch.tensor([lookup[label] for label in labels], dtype=torch.long)


def _sorted_classes(labels: list[str]) -> list[str]:
    # numeric labels sort numerically (so "10" comes after "9"), others alphabetically
    uniq = set(labels)
    return sorted(uniq, key=float) if all(_is_float(c) for c in uniq) else sorted(uniq)


def load_csv(spec: CsvData, base_dir: Path, g: torch.Generator):
    """Train and test split of a CSV data set; class labels map to indices in sorted order."""
    train = read_csv(base_dir / spec.path, spec)
    if spec.test_path is not None:
        test = read_csv(base_dir / spec.test_path, spec)
        if test.n_features != train.n_features:
            raise DataError(f"{spec.test_path}: {test.n_features} feature columns, but {spec.path} has "
                            f"{train.n_features}")
        classes = _sorted_classes(train.labels + test.labels)
        return (train.features, _class_indices(train.labels, classes), test.features,
                _class_indices(test.labels, classes), len(classes))
    classes = _sorted_classes(train.labels)
    y = _class_indices(train.labels, classes)
    perm = torch.randperm(len(y), generator=g)
    n_test = max(1, round(spec.test_fraction * len(y)))
    te, tr = perm[:n_test], perm[n_test:]
    return train.features[tr], y[tr], train.features[te], y[te], len(classes)


# --------------------------------------------------------------------------- public
def make_dataset(spec, g: torch.Generator, base_dir: Path = Path("."),
                 dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> Dataset:
    """Draw (or read) one repetition's data set, normalised and cast."""
    if spec.type == "csv":
        xtr, ytr, xte, yte, n_classes = load_csv(spec, base_dir, g)
    else:
        draw: Callable = REGISTRY.builders[("shared", "data", spec.type)]
        x, y, n_classes = draw(spec, spec.n_train + spec.n_test, g)
        xtr, ytr, xte, yte = x[: spec.n_train], y[: spec.n_train], x[spec.n_train:], y[spec.n_train:]
    if spec.normalize:
        mean, std = xtr.mean(0), xtr.std(0)
        std = torch.where(std > 0, std, torch.ones_like(std))  # a constant column stays finite
        xtr, xte = (xtr - mean) / std, (xte - mean) / std
    cast = dict(dtype=dtype, device=device)
    return Dataset(xtr.to(**cast), ytr.to(device), xte.to(**cast), yte.to(device), n_classes)


def data_shape(spec, base_dir: Path = Path(".")) -> tuple[int | tuple[int, int, int], int]:
    """(one sample's shape, n_classes) of a data spec without drawing it (reads a CSV file's rows): a
    sample's shape is its number of features, or (channels, height, width) for images."""
    if spec.type == "csv":
        *_, n_classes = load_csv(spec, base_dir, torch.Generator().manual_seed(0))
        return read_csv(base_dir / spec.path, spec).n_features, n_classes
    return spec.shape()
