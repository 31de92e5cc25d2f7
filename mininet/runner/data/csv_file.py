"""A user's CSV file: numeric feature columns and one class-label column, read with every error
naming the file and line (:class:`DataError`).

Both the spec checks (how many features and classes the file has) and the training (its rows) read
it here. The ``spec`` arguments are ``csv`` data specs (``mininet.runner.spec.data_sets.CsvData``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

F64 = torch.float64


class DataError(ValueError):
    """A data set that cannot be built (e.g. a CSV file with a bad cell); names the file and line."""


@dataclass
class CsvTable:
    features: torch.Tensor
    labels: list[str]
    n_features: int


def read_utf8(path: Path) -> str:
    """A data file's text; a missing file or bytes that are not UTF-8 are a DataError naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def read_csv(path: Path, spec: Any) -> CsvTable:
    """Parse a CSV file into float64 features and raw label strings; errors name the file and line."""
    text = read_utf8(path)
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


def load_csv(spec: Any, base_dir: Path, g: torch.Generator):
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
