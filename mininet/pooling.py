"""2-D pooling. Max: the forward picks each window's largest value, the backward routes the gradient back
to it. Average: the backward spreads each window's gradient evenly over the pixels it averaged."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .conv import _pair
from .module import Module


def _images(module: Module, x: torch.Tensor) -> torch.Tensor:
    """The input as torch's pooling takes it, (N, C, H, W) or (C, H, W): replicas become more images."""
    r = module.replicas
    fits = x.dim() in (3, 4) if r is None else (x.dim() == 5 and x.shape[0] == r)
    if not fits:
        expected = "(N, C, H, W) or (C, H, W)" if r is None else f"({r}, N, C, H, W)"
        raise ValueError(f"{module._get_name()}: expected input of shape {expected}, got {tuple(x.shape)}")
    return x if r is None else x.flatten(0, 1)


class MaxPool2d(Module):
    """Max pooling over windows of each channel of a batch of images.

    Forward:  y[n, c, i, j] = max over the window (i, j) of x[n, c]   (torch's ``max_pool2d``, which also
              gives the position of each window's maximum; a window with a NaN gives NaN, as in torch)
    Backward: dL/dx = 0 except at those positions, where the gradients of every window whose maximum it
              is are added: dL/dx[n, c, argmax(i, j)] += dL/dy[n, c, i, j]   (a scatter-add);
              with ``return_indices``, ``backward(grad_output, grad_indices=None)``

    Args:
        kernel_size, stride (default: kernel_size), padding, dilation: ints or (height, width) pairs.
        return_indices: also return the flat positions of the maxima, as torch.
        ceil_mode: round the output size up instead of down.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; replicated: ``(R, N, C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``, H_out = floor((H + 2 p - d (k - 1) - 1) / s) + 1 (ceil in
          ``ceil_mode``; W alike).
    """

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode
        self._saved: tuple | None = None

    def forward(self, input: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        y, indices = F.max_pool2d(_images(self, input), self.kernel_size, self.stride, self.padding, self.dilation,
                                  ceil_mode=self.ceil_mode, return_indices=True)
        if self.replicas is not None:
            y, indices = y.unflatten(0, input.shape[:2]), indices.unflatten(0, input.shape[:2])
        self._saved = (input.shape, indices)
        return (y, indices) if self.return_indices else y

    def backward(self, grad_output: torch.Tensor, grad_indices: None = None) -> torch.Tensor:
        """dL/dx from dL/dy; with ``return_indices`` forward returns (y, indices), and backward takes one
        gradient per output as every multi-output module does: the indices' must be None (integers take
        no gradient)."""
        if self._saved is None:
            raise self._missing_forward()
        if grad_indices is not None:
            raise TypeError(f"{self._get_name()}.backward: the indices are integers and take no gradient; "
                            f"grad_indices must be None, got {type(grad_indices).__name__}")
        shape, indices = self._saved
        planes = shape[:-2].numel()  # one row per (image, channel): indices count within its H * W
        grad = torch.zeros(planes, shape[-2] * shape[-1], dtype=grad_output.dtype, device=grad_output.device)
        windows = indices.shape[-2] * indices.shape[-1]  # explicit: -1 is ambiguous for an empty batch
        grad.scatter_add_(1, indices.reshape(planes, windows), grad_output.reshape(planes, windows))
        return grad.view(shape)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Average pooling over windows of each channel of a batch of images.

    Forward:  y[n, c, i, j] = sum over the window (i, j) of x[n, c] / D[i, j]   (torch's ``avg_pool2d``)
              D: ``divisor_override`` if given; else, with ``count_include_pad``, the window's size
              clipped to the padded image, and without it, the number of the image's own pixels in it.
    Backward: dL/dx[n, c, p] = sum over the windows (i, j) that hold pixel p of dL/dy[n, c, i, j] / D[i, j]:
              each window's gradient over D, added back onto its pixels (a transposed convolution of
              dL/dy / D with a kernel of ones; padding takes no gradient).

    Args:
        kernel_size, stride (default: kernel_size), padding: ints or (height, width) pairs.
        ceil_mode: round the output size up instead of down.
        count_include_pad: count the zero padding in D.
        divisor_override: a fixed D.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; replicated: ``(R, N, C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``, H_out = floor((H + 2 p - k) / s) + 1 (ceil in ``ceil_mode``).
    """

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override
        self._shape: torch.Size | None = None

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        y = F.avg_pool2d(_images(self, input), self.kernel_size, self.stride, self.padding, self.ceil_mode,
                         self.count_include_pad, self.divisor_override)
        self._shape = input.shape
        return y if self.replicas is None else y.unflatten(0, input.shape[:2])

    def _divisors(self, size: tuple[int, int], out: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
        """D for every window, (H_out, W_out): torch's avg_pool2d rule, one dimension at a time."""
        if self.divisor_override:
            return torch.full(out, float(self.divisor_override), dtype=like.dtype, device=like.device)
        extents = []
        for n, m, k, s, p in zip(size, out, _pair(self.kernel_size), _pair(self.stride), _pair(self.padding)):
            start = torch.arange(m, device=like.device) * s - p
            end = torch.clamp(start + k, max=n + p)  # windows end inside the padded image
            if not self.count_include_pad:
                start, end = start.clamp(min=0), end.clamp(max=n)  # the image's own pixels only
            extents.append((end - start).to(like.dtype))
        return extents[0][:, None] * extents[1][None, :]

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        if self._shape is None:
            raise self._missing_forward()
        shape = self._shape
        size, out = tuple(shape[-2:]), tuple(grad_output.shape[-2:])
        g = (grad_output / self._divisors(size, out, grad_output)).reshape(-1, 1, *out)
        k, s, p = _pair(self.kernel_size), _pair(self.stride), _pair(self.padding)
        ones = torch.ones(1, 1, *k, dtype=g.dtype, device=g.device)
        spread = F.conv_transpose2d(g, ones, stride=s)  # over the padded image, from its top-left corner
        # crop the padding off (and pad with zeros where no window reached the bottom or right edge)
        rows, cols = size[0] + 2 * p[0], size[1] + 2 * p[1]
        spread = F.pad(spread, (0, max(0, cols - spread.shape[-1]), 0, max(0, rows - spread.shape[-2])))
        grad = spread[..., p[0]:p[0] + size[0], p[1]:p[1] + size[1]]
        return grad.reshape(shape)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
