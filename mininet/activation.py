"""Activation functions, forward and backward side by side: the element-wise ones, and Softmax and
LogSoftmax (normalised along one dimension)."""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from .module import Module


class _Elementwise(Module):
    """Base of the activations: ``forward`` keeps the one tensor (input or output) that ``backward`` reads."""

    def __init__(self) -> None:
        super().__init__()
        self._saved: torch.Tensor | None = None

    def _keep(self, t: torch.Tensor) -> torch.Tensor:
        self.__dict__["_saved"] = t  # hot path: a plain attribute, no registry to update
        return t

    def _kept(self) -> torch.Tensor:
        if self._saved is None:
            raise self._missing_forward()
        return self._saved


class ReLU(_Elementwise):
    """Rectified linear unit.

    Forward:  y = max(x, 0)
    Backward: dL/dx = dL/dy where y > 0, else 0   (autograd's ``threshold_backward`` rule; the
              gradient at exactly x = 0 is 0, as in torch). Computed as dL/dy * sign(y): since
              y >= 0, sign(y) is exactly 1 or 0, and two float kernels run several times faster than
              a comparison and a select. (Only a NaN y, i.e. an already diverged run, differs: the
              gradient there is NaN, where torch passes dL/dy through.)

    Args:
        inplace: overwrite the input with the output (saves memory; the backward needs only y).

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self._keep(torch.relu_(input) if self.inplace else torch.relu(input))

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output * torch.sign(self._kept())

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(_Elementwise):
    """Hyperbolic tangent.

    Forward:  y = tanh(x)
    Backward: dL/dx = dL/dy * (1 - y^2)   (computed as autograd's ``tanh_backward``: g * (1 - y*y))

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self._keep(torch.tanh(input))

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        y = self._kept()
        return grad_output * (1 - y * y)


class LeakyReLU(_Elementwise):
    """Leaky rectified linear unit.

    Forward:  y = x if x > 0 else negative_slope * x
    Backward: dL/dx = dL/dy where x > 0, else negative_slope * dL/dy   (autograd's
              ``leaky_relu_backward``; the gradient at exactly x = 0 is negative_slope * dL/dy)

    Args:
        negative_slope: the slope for x < 0.
        inplace: overwrite the input with the output; the backward then reads the sign from y,
            which needs negative_slope >= 0 (torch refuses the same case).

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if self.inplace:
            return self._keep(F.leaky_relu_(input, self.negative_slope))  # sign(y) == sign(x) for slope >= 0
        self._keep(input)
        return F.leaky_relu(input, self.negative_slope)

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        s = self._kept()
        if self.inplace and self.negative_slope < 0:
            raise RuntimeError(f"{self._get_name()}(inplace=True) cannot differentiate with a negative slope "
                               f"({self.negative_slope}): the input's sign is lost; use inplace=False")
        return torch.where(s > 0, grad_output, grad_output * self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(_Elementwise):
    """Logistic sigmoid.

    Forward:  y = 1 / (1 + exp(-x))
    Backward: dL/dx = dL/dy * (1 - y) * y   (torch's CPU ``sigmoid_backward`` kernel, same order)

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self._keep(torch.sigmoid(input))

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        y = self._kept()
        return grad_output * (1 - y) * y


class ELU(_Elementwise):
    """Exponential linear unit.

    Forward:  y = x if x > 0 else alpha * (exp(x) - 1)
    Backward: dL/dx = dL/dy where x > 0, else dL/dy * alpha * exp(x)   (autograd's ``elu_backward``
              from the input; with ``inplace`` from the output instead: dL/dy * (y + alpha) where y <= 0)

    Args:
        alpha: the value y approaches for x -> -inf.
        inplace: overwrite the input with the output (the backward then needs only y).

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if self.inplace:
            return self._keep(F.elu_(input, self.alpha))
        self._keep(input)
        return F.elu(input, self.alpha)

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        s = self._kept()
        negative = grad_output * (s + self.alpha) if self.inplace else grad_output * self.alpha * torch.exp(s)
        return torch.where(s <= 0, negative, grad_output)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


# Constants of torch's gelu kernels (ATen's M_SQRT1_2 and M_2_SQRTPI).
_SQRT1_2 = 0.70710678118654752440
_2_SQRTPI = 1.12837916709551257390


class GELU(_Elementwise):
    """Gaussian error linear unit.

    Forward:  "none": y = x * Phi(x) = x * 0.5 * (1 + erf(x / sqrt(2)))
              "tanh": y = 0.5 * x * (1 + tanh(u)),  u = sqrt(2/pi) * (x + 0.044715 x^3)
    Backward: "none": dL/dx = dL/dy * (Phi(x) + x * phi(x)),  phi(x) = exp(-x^2/2) / sqrt(2 pi)
              "tanh": dL/dx = dL/dy * (0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3*0.044715 x^2))
              (autograd's ``gelu_backward``, same constants and grouping)

    Args:
        approximate: "none" (exact, erf) or "tanh".

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return F.gelu(self._keep(input), approximate=self.approximate)

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        x = self._kept()
        if self.approximate == "tanh":
            beta = math.sqrt(2.0) * _2_SQRTPI * 0.5  # sqrt(2/pi)
            kappa = 0.044715
            x_sq = x * x
            tanh_inner = torch.tanh(beta * (x + kappa * (x_sq * x)))
            left_derivative = 0.5 * (1 + tanh_inner)
            right_derivative = (0.5 * x) * (1 - tanh_inner * tanh_inner) * (beta * (1 + 3 * kappa * x_sq))
            return grad_output * (left_derivative + right_derivative)
        # in place on two new tensors: the same operations in the same order as
        # 0.5 * (1 + erf(x / sqrt(2))) + x * (c * exp(-x^2 / 2)), so the same bits, at a third of the time
        cdf = (x * _SQRT1_2).erf_().add_(1).mul_(0.5)
        pdf = (x * x).mul_(-0.5).exp_().mul_(_2_SQRTPI * _SQRT1_2 * 0.5)
        return pdf.mul_(x).add_(cdf).mul_(grad_output)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(_Elementwise):
    """Smooth approximation of ReLU.

    Forward:  y = log(1 + exp(beta * x)) / beta, and y = x where beta * x > threshold (linear region)
    Backward: dL/dx = dL/dy * z / (z + 1) with z = exp(beta * x), and dL/dy where beta * x > threshold
              (autograd's ``softplus_backward``)

    Args:
        beta: the sharpness of the curve.
        threshold: above this value of beta * x the function is taken as linear.

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return F.softplus(self._keep(input), self.beta, self.threshold)

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        bx = self._kept() * self.beta
        z = torch.exp(bx)  # may overflow to inf in the linear region, where torch.where discards it
        return torch.where(bx > self.threshold, grad_output, grad_output * z / (z + 1.0))

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class SiLU(_Elementwise):
    """Sigmoid linear unit (swish).

    Forward:  y = x * sigmoid(x)
    Backward: dL/dx = dL/dy * s * (1 + x * (1 - s)),  s = sigmoid(x)   (autograd's ``silu_backward``)

    Args:
        inplace: overwrite the input with the output. The backward needs x, which y does not
            determine, so a copy of x is kept: no memory is saved, as with torch's autograd.

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if self.inplace:
            self._keep(input.clone())
            return F.silu(input, inplace=True)
        return F.silu(self._keep(input))

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        x = self._kept()
        s = torch.sigmoid(x)
        return grad_output * s * (1 + x * (1 - s))

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _SoftmaxBase(_Elementwise):
    """Softmax and LogSoftmax: normalised along ``dim``, so not element-wise, but like the activations
    they keep one tensor, their output."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def _dim(self, x: torch.Tensor) -> int:
        """``dim`` for this input: torch's implicit (deprecated) choice when None, then shifted past the
        replica dimension when it counts from the front."""
        r = 0 if self.replicas is None else 1
        dim = self.dim
        if dim is None:
            warnings.warn(f"Implicit dimension choice for {self._get_name().lower()} has been deprecated. "
                          "Change the call to include dim=X as an argument.", stacklevel=4)
            dim = 0 if x.dim() - r in (0, 1, 3) else 1
        return dim + r if dim >= 0 else dim

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self._kept_dim = self._dim(input)
        return self._keep(self._function(input, self._kept_dim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """Softmax along ``dim``.

    Forward:  y_i = exp(x_i) / sum_j exp(x_j)   (over ``dim``; torch's kernel subtracts the max first)
    Backward: dL/dx = (dL/dy - sum(dL/dy * y)) * y   (sum over ``dim``; autograd's ``_softmax_backward_data``)

    Args:
        dim: the dimension to normalise; None picks it as torch does (with its deprecation warning).

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape, values in [0, 1] summing to 1 along ``dim``.
    """

    _function = staticmethod(torch.softmax)

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        y = self._kept()
        return (grad_output - (grad_output * y).sum(self._kept_dim, keepdim=True)) * y


class LogSoftmax(_SoftmaxBase):
    """Logarithm of the softmax along ``dim``, computed stably.

    Forward:  y_i = x_i - log(sum_j exp(x_j))   (over ``dim``)
    Backward: dL/dx = dL/dy - exp(y) * sum(dL/dy)   (sum over ``dim``; autograd's
              ``_log_softmax_backward_data``)

    With :class:`NLLLoss` after it, it computes :class:`CrossEntropyLoss` in two steps.

    Args:
        dim: the dimension to normalise; None picks it as torch does (with its deprecation warning).

    Shape:
        - Input: ``(*)``; Output: ``(*)``, same shape.
    """

    _function = staticmethod(torch.log_softmax)

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        y = self._kept()
        return grad_output - torch.exp(y) * grad_output.sum(self._kept_dim, keepdim=True)
