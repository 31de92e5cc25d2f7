"""Linear and Identity layers (and the Linear that MultiheadAttention names as torch does)."""

from __future__ import annotations

import torch

from . import init
from .module import Module
from .parameter import Parameter


class Linear(Module):
    r"""Affine map ``y = x W^T + b``.

    Forward:  y = x @ W^T + b                (``torch.addmm(b, x, W.t())``, what ``F.linear`` runs)
    Backward: dL/dx = g @ W
              dL/dW += g^T @ x              (summed over every leading dimension of x)
              dL/db += sum of g over every leading dimension
    where g = dL/dy.

    Default initialisation is torch.nn.Linear's, bit for bit for the same RNG state:
    W ~ U(-1/sqrt(in), 1/sqrt(in)) (``kaiming_uniform_(a=sqrt(5))``), then b ~ U(-1/sqrt(in), 1/sqrt(in)).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if ``False``, the layer has no additive bias.
        device, dtype: where and in which dtype the parameters are created (torch's defaults).

    Shape:
        - Input: ``(*, in_features)``; replicated (``replicate(R)``): ``(R, *, in_features)``.
        - Output: ``(*, out_features)``; replicated: ``(R, *, out_features)``.
        - weight: ``(out_features, in_features)``, bias: ``(out_features,)`` (replicated: a leading ``R``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(torch.empty((out_features, in_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(torch.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self._input: torch.Tensor | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch.nn.Linear's initialisation (the same draws in the same order)."""
        init._layer_default_(self.weight.data, None if self.bias is None else self.bias.data)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if input.shape[-1] != self.in_features:
            raise ValueError(
                f"{self._get_name()}(in_features={self.in_features}, out_features={self.out_features}): "
                f"input has {input.shape[-1]} features in its last dimension (shape {tuple(input.shape)}), "
                f"expected {self.in_features}")
        self.__dict__["_input"] = input  # hot path: a plain attribute, no registry to update
        w = self.weight.data
        b = None if self.bias is None else self.bias.data
        if w.dim() == 2:
            x2 = input if input.dim() == 2 else input.reshape(-1, self.in_features)
            y = torch.mm(x2, w.t()) if b is None else torch.addmm(b, x2, w.t())
            return y if input.dim() == 2 else y.view(*input.shape[:-1], self.out_features)
        if input.dim() < 3 or input.shape[0] != w.shape[0]:
            raise ValueError(f"{self._get_name()} holds {w.shape[0]} replicas: expected input of shape "
                             f"({w.shape[0]}, N, ..., {self.in_features}), got {tuple(input.shape)}")
        x3 = input if input.dim() == 3 else input.reshape(w.shape[0], -1, self.in_features)
        wt = w.transpose(-1, -2)
        y = torch.bmm(x3, wt) if b is None else torch.baddbmm(b.unsqueeze(-2), x3, wt)
        return y if input.dim() == 3 else y.view(*input.shape[:-1], self.out_features)

    #: ``backward(g, input_grad=False)`` accumulates the parameter gradients only
    can_skip_input_grad = True

    def backward(self, grad_output: torch.Tensor, input_grad: bool = True) -> torch.Tensor | None:
        x = self._input
        if x is None:
            raise self._missing_forward()
        w = self.weight.data
        if w.dim() == 2:
            g2 = grad_output if grad_output.dim() == 2 else grad_output.reshape(-1, self.out_features)
            x2 = x if x.dim() == 2 else x.reshape(-1, self.in_features)
            # g^T @ x, the operand order autograd's addmm backward uses (same bits). A frozen
            # parameter (requires_grad False) gets no gradient, and none is computed for it.
            if self.weight.requires_grad:
                self.weight.accumulate(torch.mm(g2.t(), x2))
            if self.bias is not None and self.bias.requires_grad:
                self.bias.accumulate(g2.sum(0))
            if not input_grad:
                return None
            grad_input = torch.mm(g2, w)
            return grad_input if x.dim() == 2 else grad_input.view(x.shape)
        # replicated: every leading dimension after the replicas' as rows of one batched product
        g3 = grad_output if grad_output.dim() == 3 else grad_output.reshape(w.shape[0], -1, self.out_features)
        x3 = x if x.dim() == 3 else x.reshape(w.shape[0], -1, self.in_features)
        if self.weight.requires_grad:
            self.weight.accumulate(torch.bmm(g3.transpose(-1, -2), x3))
        if self.bias is not None and self.bias.requires_grad:
            self.bias.accumulate(g3.sum(-2))
        if not input_grad:
            return None
        grad_input = torch.bmm(g3, w)
        return grad_input if x.dim() == 3 else grad_input.view(x.shape)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    """A :class:`Linear` under the name torch gives MultiheadAttention's ``out_proj`` (torch uses the
    class to keep dynamic quantisation away from it): the same forward, backward, parameters and
    initialisation draws, and the same ``repr``."""


class Identity(Module):
    """Returns its input unchanged. Forward: y = x. Backward: dL/dx = dL/dy.

    Args:
        *args, **kwargs: accepted and ignored, as in torch.nn.Identity.

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output
