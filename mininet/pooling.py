"""2-D max pooling: the forward picks each window's largest value, the backward routes the gradient back
to it."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .module import Module


class MaxPool2d(Module):
    """Max pooling over windows of each channel of a batch of images.

    Forward:  y[n, c, i, j] = max over the window (i, j) of x[n, c]   (torch's ``max_pool2d``, which also
              gives the position of each window's maximum; a window with a NaN gives NaN, as in torch)
    Backward: dL/dx = 0 except at those positions, where the gradients of every window whose maximum it
              is are added: dL/dx[n, c, argmax(i, j)] += dL/dy[n, c, i, j]   (a scatter-add)

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

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        images = x if self.replicas is None else x.flatten(0, 1)  # replicas are more images
        y, indices = F.max_pool2d(images, self.kernel_size, self.stride, self.padding, self.dilation,
                                  ceil_mode=self.ceil_mode, return_indices=True)
        if self.replicas is not None:
            y, indices = y.unflatten(0, x.shape[:2]), indices.unflatten(0, x.shape[:2])
        self._saved = (x.shape, indices)
        return (y, indices) if self.return_indices else y

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        if self._saved is None:
            raise self._missing_forward()
        shape, indices = self._saved
        planes = shape[:-2].numel()  # one row per (image, channel): indices count within its H * W
        grad = torch.zeros(planes, shape[-2] * shape[-1], dtype=grad_output.dtype, device=grad_output.device)
        grad.scatter_add_(1, indices.reshape(planes, -1), grad_output.reshape(planes, -1))
        return grad.view(shape)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")
