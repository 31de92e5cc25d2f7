"""Dropout: random zeroing in training, identity in evaluation."""

from __future__ import annotations

import torch

from .module import Module

# Devices on which torch.nn.Dropout runs the fused ``native_dropout`` kernel instead of
# ``bernoulli_`` (ATen's ``is_fused_kernel_acceptable``); the two draw different random numbers.
_FUSED_DEVICES = ("cuda", "xpu", "lazy", "privateuseone")


def bernoulli_mask(x: torch.Tensor, p: float) -> torch.Tensor:
    """The scaled mask m = b / (1 - p), b ~ Bernoulli(1 - p), drawn as ATen's ``_dropout_impl`` draws it
    (so the same RNG state gives torch's mask, bit for bit); 0 < p < 1."""
    return torch.empty_like(x).bernoulli_(1 - p).div_(1 - p)


class Dropout(Module):
    """Inverted dropout.

    Forward:  training: y = x * m,  m = b / (1 - p),  b ~ Bernoulli(1 - p) drawn per element
              evaluation (or p = 0): y = x
    Backward: dL/dx = dL/dy * m   (the same m as the forward; dL/dx = dL/dy in evaluation)

    The mask is drawn as torch does, so the same RNG state gives the same mask, bit for bit: on the CPU
    ``torch.empty_like(x).bernoulli_(1 - p).div_(1 - p)`` (ATen's ``_dropout_impl``), on CUDA (not in place)
    the fused ``torch.native_dropout``.

    Args:
        p: probability of zeroing an element, in [0, 1].
        inplace: multiply the input in place.

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace
        self._mask: torch.Tensor | None = None  # m above; None after an identity forward
        self._scale = 1.0  # 1/(1-p) when _mask holds the fused kernel's boolean mask, else 1
        self._called = False

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self._called = True
        p = self.p
        if not self.training or p == 0 or input.numel() == 0:
            self._mask = None
            return input
        if p == 1:
            self._mask, self._scale = torch.zeros((), dtype=input.dtype, device=input.device), 1.0
            return input.mul_(self._mask) if self.inplace else input * self._mask
        if not self.inplace and input.device.type in _FUSED_DEVICES:
            y, self._mask = torch.native_dropout(input, p, True)
            self._scale = 1.0 / (1.0 - p)
            return y
        self._mask, self._scale = bernoulli_mask(input, p), 1.0
        return input.mul_(self._mask) if self.inplace else input * self._mask

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        if not self._called:
            raise self._missing_forward()
        m = self._mask
        if m is None:
            return grad_output
        g = grad_output * m
        return g if self._scale == 1.0 else g * self._scale

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
