"""Element-wise activation functions: forward and backward side by side."""

from __future__ import annotations

import torch

from .module import Module


class ReLU(Module):
    """Rectified linear unit.

    Forward:  y = max(x, 0)
    Backward: dL/dx = dL/dy where y > 0, else 0   (autograd's ``threshold_backward`` rule; the
              gradient at exactly x = 0 is 0, as in torch)

    Args:
        inplace: overwrite the input with the output (saves memory; the backward needs only y).

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace
        self._output: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu_(x) if self.inplace else torch.relu(x)
        self._output = y
        return y

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        if self._output is None:
            raise self._missing_forward()
        return torch.where(self._output > 0, grad_output, 0.0)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """Hyperbolic tangent.

    Forward:  y = tanh(x)
    Backward: dL/dx = dL/dy * (1 - y^2)   (computed as autograd's ``tanh_backward``: g * (1 - y*y))

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def __init__(self) -> None:
        super().__init__()
        self._output: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.tanh(x)
        self._output = y
        return y

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        y = self._output
        if y is None:
            raise self._missing_forward()
        return grad_output * (1 - y * y)
