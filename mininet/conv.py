"""2-D convolution: its backward derived as matrix products over unfolded patches (im2col / col2im),
computed as two convolutions."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import init
from .module import Module
from .parameter import Parameter


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _source_index(n: int, before: int, after: int, mode: str, device: torch.device) -> torch.Tensor:
    """For each position of a dimension of size n padded by ``before`` and ``after``: the input position
    whose value ``F.pad(mode)`` copies there (reflect: mirrored at the first and last element, which
    are not repeated; replicate: the nearest edge; circular: wrapped around)."""
    i = torch.arange(-before, n + after, device=device)
    if mode == "circular":
        return i.remainder(n)
    if mode == "replicate":
        return i.clamp(0, n - 1)
    i = i.abs()
    return torch.where(i > n - 1, 2 * (n - 1) - i, i)


class Conv2d(Module):
    """2-D convolution (cross-correlation, as torch) over a batch of C-channel images.

    With X the input's patches unfolded into columns (``F.unfold``: one column of C/groups * kh * kw
    values per output position, per group), a convolution is a matrix product:
    Forward:  Y = W X + b   per sample and group: W is (out/groups, in/groups * kh * kw), X is
              (in/groups * kh * kw, H_out * W_out); computed by torch's ``conv2d`` (the same bits).
    Backward: with G = dL/dY in the same (out, H_out * W_out) layout, per sample and group:
              dL/dW += sum over samples of G X^T,   dL/db += sum of G over samples and positions,
              dL/dX  = fold(W^T G): each patch's gradient is added back to the pixels it was cut from
              (``F.fold``, col2im), which sums the overlaps of the patches and leaves 0 for pixels that
              no window covered.
              Computed without materialising X: W^T G folded back is the transposed convolution of
              G with W (``conv_transpose2d``, the same bits as autograd's), and G X^T, for each output
              and input channel, is the correlation of the input plane with the gradient plane summed
              over samples, one ``conv2d`` with samples as channels (docs/backprop.md checks both
              against the unfold / fold form).
              Padding other than symmetric zeros (``padding_mode``, or "same" with an even effective
              kernel, which pads one more at the bottom and right) runs as torch does: ``F.pad``, then
              the convolution without padding. Each padded pixel is a copy of an input pixel (or 0), so
              the backward of the pad adds the padded image's gradient back onto the pixels copied:
              dL/dx[p] = sum of dL/dx_padded over the positions that copy p (``index_add_``, one
              dimension at a time); zeros padding just crops it.

    Args:
        in_channels, out_channels: C and O; both must be divisible by ``groups``.
        kernel_size, stride, padding, dilation: ints or (height, width) pairs, as torch. ``padding``
            may also be "valid" (none) or "same" (output as large as the input; stride 1; an even
            effective kernel d (k - 1) + 1 pads one more at the end, as torch).
        groups: split the channels into this many independent convolutions.
        bias: learn ``bias``.
        padding_mode: "zeros", "reflect", "replicate" or "circular" (the values ``F.pad`` fills in).
        device, dtype: where and in which dtype the parameters are created (torch's defaults).

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``; replicated: ``(R, N, C, H, W)``.
        - Output: ``(N, O, H_out, W_out)``, H_out = floor((H + 2 p - d (k - 1) - 1) / s) + 1 (W alike).
        - weight: ``(O, C / groups, kh, kw)``, bias: ``(O,)`` (replicated: a leading ``R``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: str | int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{self._get_name()}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{self._get_name()}: padding_mode must be one of {_PADDING_MODES}, "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.dilation = _pair(kernel_size), _pair(stride), _pair(dilation)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.padding_mode = padding_mode
        # (before, after) per spatial dimension; the convolution's own padding where that is symmetric
        # zeros, else an explicit F.pad first (torch's order of operations in either case)
        self._pads = self._numeric_padding()
        self._explicit_pad = padding_mode != "zeros" or any(a != b for a, b in self._pads)
        self._pad = (0, 0) if self._explicit_pad else (self._pads[0][0], self._pads[1][0])
        self.weight = Parameter(torch.empty((out_channels, in_channels // groups, *self.kernel_size),
                                            device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(torch.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self._input: torch.Tensor | None = None
        self.reset_parameters()

    def _numeric_padding(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(before, after) for height and width."""
        if not isinstance(self.padding, str):
            return tuple((p, p) for p in self.padding)
        if self.padding == "valid":
            return ((0, 0), (0, 0))
        if self.padding != "same":
            raise ValueError(f"{self._get_name()}: padding must be 'valid', 'same' or a number, got {self.padding!r}")
        if self.stride != (1, 1):
            raise ValueError(f"{self._get_name()}: padding='same' is not supported for strided convolutions")
        # torch's split: half before, the rest (one more for an even effective kernel) after
        total = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
        return tuple((t // 2, t - t // 2) for t in total)

    def _padded(self, input: torch.Tensor) -> torch.Tensor:
        """The input padded explicitly (``F.pad`` as torch's Conv2d runs it), or itself."""
        if not self._explicit_pad:
            return input
        (top, bottom), (left, right) = self._pads
        mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
        images = input if input.dim() <= 4 else input.flatten(0, 1)  # replicas: more images
        padded = F.pad(images, (left, right, top, bottom), mode=mode)
        return padded if input.dim() <= 4 else padded.unflatten(0, input.shape[:2])

    def _unpadded_grad(self, grad: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        """The backward of ``_padded``: from dL/d(padded input) to dL/d(input) of ``shape``."""
        if not self._explicit_pad:
            return grad
        for dim, (before, after) in zip((-2, -1), self._pads):
            n = shape[dim]
            if self.padding_mode == "zeros":
                grad = grad.narrow(dim, before, n)  # the zeros take no gradient
            else:
                index = _source_index(n, before, after, self.padding_mode, grad.device)
                size = list(grad.shape)
                size[dim] = n
                grad = grad.new_zeros(size).index_add_(dim, index, grad)
        return grad.contiguous()

    def reset_parameters(self) -> None:
        """torch.nn.Conv2d's initialisation (the same draws in the same order)."""
        init._layer_default_(self.weight.data, None if self.bias is None else self.bias.data)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        r = self.replicas
        expected = 4 if r is None else 5
        unbatched = r is None and input.dim() == 3
        wrong_rank = input.dim() != expected and not unbatched
        if wrong_rank or input.shape[-3] != self.in_channels or (r and input.shape[0] != r):
            lead = "(N, " if r is None else f"({r}, N, "
            raise ValueError(f"{self._get_name()}({self.in_channels}, {self.out_channels}): expected input of shape "
                             f"{lead}{self.in_channels}, H, W), got {tuple(input.shape)}")
        input_shape = input.shape
        input = self._padded(input)
        self._input, self._input_shape = input, input_shape  # backward works on the padded input
        w, b = self.weight.data, None if self.bias is None else self.bias.data
        if r is None:
            return F.conv2d(input, w, b, self.stride, self._pad, self.dilation, self.groups)
        # R replicas as one grouped convolution: replica k's channels are group(s) k of (N, R * C, H, W)
        n = input.shape[1]
        y = F.conv2d(input.transpose(0, 1).reshape(n, r * self.in_channels, *input.shape[-2:]), w.flatten(0, 1),
                     None if b is None else b.flatten(), self.stride, self._pad, self.dilation, r * self.groups)
        return y.view(n, r, self.out_channels, *y.shape[-2:]).transpose(0, 1).contiguous()

    #: ``backward(g, input_grad=False)`` accumulates the parameter gradients only
    can_skip_input_grad = True

    def backward(self, grad_output: torch.Tensor, input_grad: bool = True) -> torch.Tensor | None:
        x = self._input
        if x is None:
            raise self._missing_forward()
        # as (N, groups' channels, H, W): replicas become more groups, as in forward
        groups = self.groups * (self.replicas or 1)
        images = x if self.replicas is None else x.transpose(0, 1).flatten(1, 2)
        g = grad_output if self.replicas is None else grad_output.transpose(0, 1).flatten(1, 2)
        if x.dim() == 3:  # one unbatched image
            images, g = images.unsqueeze(0), g.unsqueeze(0)
        if self.weight.requires_grad:
            self.weight.accumulate(self._weight_grad(images, g, groups).view(self.weight.data.shape))
        if self.bias is not None and self.bias.requires_grad:
            self.bias.accumulate(g.sum((0, 2, 3)).view(self.bias.data.shape))
        if not input_grad:
            return None
        # dL/dX = W^T G folded back onto the pixels: the transposed convolution of G with W;
        # output_padding restores the rows and columns a stride > 1 left uncovered
        size = images.shape[-2:]
        windows = zip(size, g.shape[-2:], self.stride, self._pad, self.dilation, self.kernel_size)
        extra = [n - ((m - 1) * s - 2 * p + d * (k - 1) + 1) for n, m, s, p, d, k in windows]
        grad = F.conv_transpose2d(g, self.weight.data.flatten(0, 1) if self.replicas else self.weight.data, None,
                                  self.stride, self._pad, extra, groups, self.dilation)
        if self.replicas is not None:
            grad = grad.view(x.shape[1], self.replicas, self.in_channels, *size).transpose(0, 1).contiguous()
        else:
            grad = grad.view(x.shape)
        return self._unpadded_grad(grad, self._input_shape)

    def _weight_grad(self, images: torch.Tensor, g: torch.Tensor, groups: int) -> torch.Tensor:
        """dL/dW = sum over samples of G X^T, i.e. for each (output channel o, input channel c) the sum
        over samples of the correlation of input plane c with gradient plane o: one convolution in which
        the channels play the batch and the samples the channels (per group: channel-major copies)."""
        n, c, h, w = images.shape
        if n == 0:  # an empty batch: no samples to sum over (and no planes to correlate)
            return self.weight.data.new_zeros(self.weight.data.shape)
        per_group = c // groups
        planes = images.reshape(n, groups, per_group, h, w).permute(2, 1, 0, 3, 4).reshape(per_group, groups * n, h, w)
        kernels = g.transpose(0, 1)  # (O, N, H_out, W_out)
        corr = F.conv2d(planes, kernels, None, self.dilation, self._pad, self.stride, groups)
        kh, kw = self.kernel_size
        return corr[:, :, :kh, :kw].transpose(0, 1).contiguous()  # (O, C / groups, kh, kw), as torch lays it out

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s
