"""Flatten: a reshape, forward and back."""

from __future__ import annotations

import torch

from .module import Module


class Flatten(Module):
    """Flattens the dimensions ``start_dim`` to ``end_dim`` into one (by default all but the batch's).

    Forward:  y = x.flatten(start_dim, end_dim)
    Backward: dL/dx = dL/dy viewed in the input's shape (no value changes, only the layout)

    Args:
        start_dim, end_dim: the first and last dimension to flatten; counted without the replica
            dimension when the module is replicated.

    Shape:
        - Input: ``(*, S_start, ..., S_end, *)``; Output: ``(*, S_start * ... * S_end, *)``.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim
        self._shape: torch.Size | None = None

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        shift = 0 if self.replicas is None else 1  # dimensions counted from the front skip the replicas
        start = self.start_dim + shift if self.start_dim >= 0 else self.start_dim
        end = self.end_dim + shift if self.end_dim >= 0 else self.end_dim
        self._shape = input.shape
        return input.flatten(start, end)

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        if self._shape is None:
            raise self._missing_forward()
        return grad_output.reshape(self._shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
