"""The sizes that specs infer and check come from torch's own formulas: compared with what torch's
convolution and pooling produce, over every small combination."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from mininet.runner.spec.shapes import _window_out


def _torch_size(op, size: int, **kwargs) -> int:
    try:
        return op(torch.zeros(1, 1, size, size), **kwargs).shape[-1]
    except RuntimeError:  # torch refuses an output smaller than 1
        return 0


def test_convolution_sizes_match_torch():
    for size, k, s, p, d in itertools.product(range(1, 10), range(1, 5), range(1, 4), range(0, 3), range(1, 3)):
        expected = _torch_size(F.conv2d, size, weight=torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
        assert max(_window_out(size, k, s, p, d), 0) == expected, (size, k, s, p, d)


def test_pooling_sizes_match_torch():
    for size, k, s, ceil in itertools.product(range(1, 10), range(1, 5), range(1, 4), (False, True)):
        for p in range(0, k // 2 + 1):  # torch allows at most half the kernel as padding
            expected = _torch_size(F.max_pool2d, size, kernel_size=k, stride=s, padding=p, ceil_mode=ceil)
            assert max(_window_out(size, k, s, p, 1, ceil), 0) == expected, (size, k, s, p, ceil)
