"""A text for next-character prediction: non-overlapping windows of ``context`` characters, each
with the ``context`` characters that follow them one position later as targets.

The vocabulary is the text's sorted distinct characters, so a spec's text always has the same
token indices (what ``mininet sample`` needs to turn a model's outputs back into characters).
Windows are taken in order; the first ``1 - test_fraction`` of them train and the rest test, so the
test text follows the training text rather than interleaving with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .csv_file import DataError, read_utf8

SHIPPED = Path(__file__).parent / "texts" / "alice.txt"


@dataclass
class Text:
    chars: str  # the vocabulary: token i is chars[i]
    tokens: torch.Tensor  # (len,) int64

    def encode(self, text: str) -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - set(index))
        if unknown:
            raise ValueError(f"characters not in the text's vocabulary: {''.join(unknown)!r}")
        return torch.tensor([index[c] for c in text], dtype=torch.int64)

    def decode(self, tokens: torch.Tensor) -> str:
        return "".join(self.chars[i] for i in tokens.tolist())


def text_path(spec: Any, base_dir: Path) -> Path:
    return SHIPPED if spec.path is None else base_dir / spec.path


def read_text(spec: Any, base_dir: Path = Path(".")) -> Text:
    path = text_path(spec, base_dir)
    content = read_utf8(path)
    chars = "".join(sorted(set(content)))
    if len(content) < 2 * spec.context + 1:
        raise DataError(f"{path}: {len(content)} characters, too short for two windows of context "
                        f"{spec.context}")
    index = {c: i for i, c in enumerate(chars)}
    return Text(chars, torch.tensor([index[c] for c in content], dtype=torch.int64))


def windows(spec: Any, text: Text) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_test, y_test): (N, context) inputs and targets shifted by one."""
    T = spec.context
    n = (len(text.tokens) - 1) // T
    if spec.max_windows is not None:
        n = min(n, spec.max_windows)
    x = text.tokens[: n * T].view(n, T)
    y = text.tokens[1: n * T + 1].view(n, T)
    n_test = max(1, round(n * spec.test_fraction))
    if n - n_test < 1:
        raise DataError(f"{spec.path or SHIPPED.name}: {n} windows of {T}, too few to split into training and test")
    return x[: n - n_test], y[: n - n_test], x[n - n_test:], y[n - n_test:]
