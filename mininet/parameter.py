"""Parameter: a trainable tensor and the gradient that backward accumulates into it."""

from __future__ import annotations

from typing import Iterable

import torch


class Parameter:
    """A trainable tensor of a :class:`~mininet.Module`.

    Unlike ``torch.nn.Parameter`` this is not a tensor subclass: it is a small holder with two
    attributes, both assignable, exactly what a hand-written backward needs.

    Attributes:
        data: the value, a plain tensor that never requires grad.
        grad: ``None`` until the first backward; then the accumulated gradient, same shape as ``data``.
        requires_grad: False freezes the parameter, as in torch: backward leaves ``grad`` as it is (None)
            and the optimizers, which skip parameters without a gradient, leave it unchanged.
    """

    __slots__ = ("data", "grad", "requires_grad")

    def __init__(self, data: torch.Tensor, requires_grad: bool = True) -> None:
        if not isinstance(data, torch.Tensor):
            raise TypeError(f"Parameter expects a torch.Tensor, got {type(data).__name__}")
        # detach: a tensor handed in from autograd-land must not drag a graph along.
        self.data = data.detach()
        self.grad: torch.Tensor | None = None
        self.requires_grad = requires_grad

    def requires_grad_(self, requires_grad: bool = True) -> Parameter:
        """Set ``requires_grad`` (False: frozen) and return the parameter, as torch's tensor method."""
        self.requires_grad = requires_grad
        return self

    def accumulate(self, grad: torch.Tensor) -> None:
        """Add ``grad`` to ``.grad`` (the first gradient is stored as is, as autograd does); nothing
        for a frozen parameter."""
        if not self.requires_grad:
            return
        if self.grad is None:
            self.grad = grad
        else:
            self.grad.add_(grad)

    @property
    def shape(self) -> torch.Size:
        return self.data.shape

    @property
    def dtype(self) -> torch.dtype:
        return self.data.dtype

    @property
    def device(self) -> torch.device:
        return self.data.device

    def numel(self) -> int:
        return self.data.numel()

    def __repr__(self) -> str:
        frozen = "" if self.requires_grad else " (requires_grad=False)"
        return f"Parameter containing{frozen}:\n{self.data!r}"


def zero_grads(params: Iterable[Parameter], set_to_none: bool = True) -> None:
    """Reset gradients: to ``None`` (torch's default), or to zeros in place."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.zero_()
