"""Normalisation layers: BatchNorm1d (over the batch, per channel) and LayerNorm (per sample)."""

from __future__ import annotations

import math
import numbers
from typing import Sequence

import torch

from .module import Module
from .parameter import Parameter


class BatchNorm1d(Module):
    """Batch normalisation over the batch (and length) dimension, per channel.

    Forward:  y = (x - mean) * invstd * weight + bias,  invstd = 1 / sqrt(var + eps)
              (computed as torch's CPU kernel does: x * alpha + beta, alpha = invstd * weight,
              beta = bias - mean * alpha)
              training (or no running stats): mean, var = the batch's per-channel mean and *biased*
              variance over N (and L); with running stats, also
                  running_mean = (1 - f) * running_mean + f * mean
                  running_var  = (1 - f) * running_var  + f * var * n / (n - 1)   (unbiased, n = N*L)
                  num_batches_tracked += 1
              where f = momentum, or 1 / num_batches_tracked when momentum is None (cumulative average).
              evaluation: mean, var = running_mean, running_var.
              An empty batch (N = 0) gives an empty output and leaves the running statistics unchanged
              (num_batches_tracked still counts it), as torch.
    Backward: with g = dL/dy, sums over N (and L), n the number of summed elements, xmu = x - mean:
              dL/dweight += sum(g * xmu) * invstd,  dL/dbias += sum(g)
              training: dL/dx = (g - sum(g) / n - xmu * invstd^2 * sum(g * xmu) / n) * invstd * weight
              (the batch statistics' own dependence on x included: autograd's ``native_batch_norm_backward``)
              evaluation: dL/dx = g * invstd * weight   (running statistics are constants)

    Args:
        num_features: number of channels C.
        eps: added to the variance for numerical stability.
        momentum: weight of the new batch in the running averages; None for a cumulative average.
        affine: learnable per-channel ``weight`` (init 1) and ``bias`` (init 0).
        track_running_stats: keep ``running_mean``, ``running_var`` and ``num_batches_tracked``; without them
            batch statistics are used in evaluation too.
        device, dtype: where and in which dtype parameters and buffers are created (torch's defaults).
        bias: (keyword) with ``affine``, whether to learn ``bias``.

    Shape:
        - Input: ``(N, C)`` or ``(N, C, L)``; replicated: ``(R, N, C)`` or ``(R, N, C, L)``.
        - Output: same shape as the input.
        - weight, bias, running_mean, running_var: ``(C,)``; num_batches_tracked: ``()`` int64
          (replicated: a leading ``R``).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = {"device": device, "dtype": dtype}
        if affine:
            self.weight = Parameter(torch.ones(num_features, **factory))
            if bias:
                self.bias = Parameter(torch.zeros(num_features, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self._saved: tuple | None = None

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.data.fill_(1)
        if self.bias is not None:
            self.bias.data.zero_()

    #: the input shapes this layer takes (without the replica dimension)
    _input_shapes = ("(N, C)", "(N, C, L)")

    def _layout(self, x: torch.Tensor) -> tuple[int, list[int], tuple[int, ...]]:
        """Channel dimension, the shape per-channel tensors take to broadcast, and the reduced dimensions."""
        r = 0 if self.replicas is None else 1
        if x.dim() - r not in (shape.count(",") + 1 for shape in self._input_shapes):
            lead = "" if r == 0 else f"{self.replicas}, "
            expected = " or ".join(f"({lead}{shape[1:]}" for shape in self._input_shapes)
            raise ValueError(f"{self._get_name()}({self.num_features}): expected input of shape {expected}, "
                             f"got {x.dim()}D input of shape {tuple(x.shape)}")
        channel = r + 1
        if x.shape[channel] != self.num_features or (r and x.shape[0] != self.replicas):
            raise ValueError(f"{self._get_name()}({self.num_features}): input of shape {tuple(x.shape)} has "
                             f"{x.shape[channel]} channels in dimension {channel}, expected {self.num_features}"
                             + (f" (and {self.replicas} replicas in dimension 0)" if r else ""))
        shape = [1] * x.dim()
        shape[channel] = self.num_features
        if r:
            shape[0] = self.replicas
        return channel, shape, (r,) + tuple(range(channel + 1, x.dim()))

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        channel, shape, dims = self._layout(input)
        n = input.numel() // (input.shape[channel] * (input.shape[0] if self.replicas is not None else 1))
        use_batch_stats = self.training or self.running_mean is None
        if use_batch_stats and n == 0:
            # An empty batch has no statistics: torch returns an empty output, leaves the running
            # statistics as they are and still counts the batch in num_batches_tracked.
            if self.training and self.running_mean is not None:
                self.num_batches_tracked.add_(1)
            use_batch_stats = False
            mean, invstd = input.new_zeros(shape), input.new_ones(shape)
        elif use_batch_stats:
            if n == 1:  # torch's check, wherever batch statistics are used (also untracked in evaluation)
                raise ValueError(f"{self._get_name()}: expected more than 1 value per channel when using batch "
                                 f"statistics, got input of shape {tuple(input.shape)}")
            var, mean = torch.var_mean(input, dim=dims, correction=0, keepdim=True)
            invstd = torch.rsqrt(var + self.eps)
            if self.training and self.running_mean is not None:
                self._update_running_stats(mean, var, n)
        else:
            mean = self.running_mean.view(shape)
            invstd = 1 / torch.sqrt(self.running_var.view(shape) + self.eps)
        self._saved = (input, mean, invstd, shape, dims, n, use_batch_stats)
        # As torch's CPU kernel: y = x * alpha + beta with per-channel alpha = invstd * weight and
        # beta = bias - mean * alpha (two passes over x instead of four).
        alpha = invstd if self.weight is None else invstd * self.weight.data.view(shape)
        beta = -(mean * alpha) if self.bias is None else self.bias.data.view(shape) - mean * alpha
        return input * alpha + beta

    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, n: int) -> None:
        self.num_batches_tracked.add_(1)
        rm, rv = self.running_mean, self.running_var
        if self.momentum is None:
            # Cumulative moving average; a tensor (no host sync), one factor per replica when replicated.
            f = (1.0 / self.num_batches_tracked.to(rm.dtype)).unsqueeze(-1)
        else:
            f = self.momentum
        rm.mul_(1 - f).add_(f * mean.view(rm.shape))
        rv.mul_(1 - f).add_(f * (var.view(rv.shape) * (n / (n - 1))))

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        if self._saved is None:
            raise self._missing_forward()
        x, mean, invstd, shape, dims, n, use_batch_stats = self._saved
        g = grad_output
        xmu = x - mean
        grad_sum = g.sum(dims, keepdim=True)
        dot = (g * xmu).sum(dims, keepdim=True)
        scale = invstd if self.weight is None else invstd * self.weight.data.view(shape)
        if self.weight is not None:
            self.weight.accumulate((dot * invstd).view(self.weight.data.shape))
        if self.bias is not None:
            self.bias.accumulate(grad_sum.view(self.bias.data.shape))
        if not use_batch_stats:
            return g * scale
        k = dot * invstd * invstd / n  # torch's kernel, term for term
        return (g - grad_sum / n - xmu * k) * scale

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of images, per channel: BatchNorm1d's formulas, with the mean and variance of
    each channel taken over the batch and every pixel (n = N * H * W).

    Args: as :class:`BatchNorm1d`.

    Shape:
        - Input: ``(N, C, H, W)``; replicated: ``(R, N, C, H, W)``. Output: same shape as the input.
        - weight, bias, running_mean, running_var: ``(C,)``; num_batches_tracked: ``()`` int64
          (replicated: a leading ``R``).
    """

    _input_shapes = ("(N, C, H, W)",)


class LayerNorm(Module):
    """Layer normalisation: each sample normalised over its last ``len(normalized_shape)`` dimensions.

    Forward:  with mean, var the sample's mean and *biased* variance over those n elements and
              rstd = 1 / sqrt(var + eps):
                  y = (x - mean) * rstd * weight + bias
              (computed as torch's CPU kernel does: (x * rstd + (-mean * rstd)) * weight + bias; without
              replicas that kernel itself, ``torch.native_layer_norm``, which also gives mean and rstd).
              Unlike BatchNorm, nothing depends on the other samples of the batch, and training and
              evaluation compute the same thing.
    Backward: with g = dL/dy * weight (dL/dy without affine), and sums over the sample's n elements:
                  dL/dx = rstd * g + b * x + c,   b = (sum(g) * mean - sum(g * x)) * rstd^3 / n,
                                                  c = -b * mean - sum(g) * rstd / n
              (autograd's ``native_layer_norm_backward``, term for term: the same as
              rstd * (g - mean(g) - xhat * mean(g * xhat)) with xhat = (x - mean) * rstd);
              dL/dweight += sum over samples of dL/dy * xhat,  dL/dbias += sum over samples of dL/dy.

    Args:
        normalized_shape: the trailing shape to normalise over (an int: the last dimension only).
        eps: added to the variance for numerical stability.
        elementwise_affine: learnable ``weight`` (init 1) and ``bias`` (init 0) of shape normalized_shape.
        bias: with ``elementwise_affine``, whether to learn ``bias``.
        device, dtype: where and in which dtype the parameters are created (torch's defaults).

    Shape:
        - Input: ``(*, *normalized_shape)``; replicated: ``(R, *, *normalized_shape)``.
        - Output: same shape as the input.
        - weight, bias: ``normalized_shape`` (replicated: a leading ``R``).
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(d) for d in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        factory = {"device": device, "dtype": dtype}
        if elementwise_affine:
            self.weight = Parameter(torch.ones(self.normalized_shape, **factory))
            if bias:
                self.bias = Parameter(torch.zeros(self.normalized_shape, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self._saved: tuple | None = None

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight.data.fill_(1)
        if self.bias is not None:
            self.bias.data.zero_()

    def _affine(self, p: Parameter | None, x: torch.Tensor) -> torch.Tensor | None:
        """A parameter shaped to broadcast against ``x`` (replicated: one per replica along dimension 0)."""
        if p is None or self.replicas is None:
            return None if p is None else p.data
        return p.data.view(self.replicas, *[1] * (x.dim() - 1 - len(self.normalized_shape)), *self.normalized_shape)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        k = len(self.normalized_shape)
        r = 0 if self.replicas is None else 1
        trailing = tuple(input.shape[input.dim() - k:]) if input.dim() >= k + r else None
        if trailing != self.normalized_shape or (r and input.shape[0] != self.replicas):
            lead = f"{self.replicas}, *" if r else "*"
            raise ValueError(f"{self._get_name()}({self.normalized_shape}): expected input of shape "
                             f"({lead}, {', '.join(map(str, self.normalized_shape))}), got {tuple(input.shape)}")
        if r == 0 and input.numel():  # torch's own forward kernel (var_mean is several times slower)
            y, mean, rstd = torch.native_layer_norm(input, self.normalized_shape, self._affine(self.weight, input),
                                                    self._affine(self.bias, input), self.eps)
            self._saved = (input, mean, rstd)
            return y
        dims = tuple(range(-k, 0))
        if input.numel() == 0:
            # no samples (N = 0): nothing to normalise, and var_mean over them would warn (torch does not)
            var = mean = input.new_zeros(input.shape[:-k] + (1,) * k)
        else:
            var, mean = torch.var_mean(input, dim=dims, correction=0, keepdim=True)
        rstd = torch.rsqrt(var + self.eps)
        self._saved = (input, mean, rstd)
        y = input * rstd + (-mean * rstd)
        weight, bias = self._affine(self.weight, input), self._affine(self.bias, input)
        if weight is not None:
            y = y * weight
        if bias is not None:
            y = y + bias
        return y

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        if self._saved is None:
            raise self._missing_forward()
        x, mean, rstd = self._saved
        k = len(self.normalized_shape)
        n = math.prod(self.normalized_shape)
        if self.replicas is None and x.numel():
            return self._backward_rows(grad_output, x, mean, rstd, n)
        dims = tuple(range(-k, 0))
        weight = self._affine(self.weight, x)
        # the parameters' gradients sum over every sample: all dimensions but the normalised ones
        # (and the replica dimension)
        sample_dims = tuple(range(0 if self.replicas is None else 1, x.dim() - k))
        if self.weight is not None:
            self.weight.accumulate((grad_output * ((x - mean) * rstd)).sum(sample_dims)
                                   .view(self.weight.data.shape))
        if self.bias is not None:
            self.bias.accumulate(grad_output.sum(sample_dims).view(self.bias.data.shape))
        g = grad_output if weight is None else grad_output * weight
        db = g.sum(dims, keepdim=True)
        ds = (g * x).sum(dims, keepdim=True)
        b = (db * mean - ds) * rstd * rstd * rstd / n
        c = -b * mean - db * rstd / n
        return rstd * g + b * x + c

    def _backward_rows(self, grad_output: torch.Tensor, x: torch.Tensor, mean: torch.Tensor, rstd: torch.Tensor,
                       n: int) -> torch.Tensor:
        """The same backward on (samples, n) rows, in fewer passes over the data: the row sums of g * x
        as one dot product, dL/dx as one product, a fused multiply-add and an add in place."""
        x2, g2 = x.reshape(-1, n), grad_output.reshape(-1, n)
        mean, rstd = mean.reshape(-1, 1), rstd.reshape(-1, 1)
        if self.weight is not None:
            self.weight.accumulate((g2 * (x2 - mean).mul_(rstd)).sum(0).view(self.weight.data.shape))
        if self.bias is not None:
            self.bias.accumulate(g2.sum(0).view(self.bias.data.shape))
        g = g2 if self.weight is None else g2 * self.weight.data.reshape(n)
        db = g.sum(1, keepdim=True)
        ds = torch.linalg.vecdot(g, x2).unsqueeze(1)
        b = (db * mean - ds) * rstd * rstd * rstd / n
        c = -b * mean - db * rstd / n
        return torch.mul(g, rstd).addcmul_(b, x2).add_(c).view(x.shape)  # in place: no broadcast output

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
