"""The torch.nn side of the spec layers that are not one torch.nn class: a recurrent layer giving
one tensor (its output sequence or last step), a learned position embedding, causal self-attention,
a residual block, and a loss applied at every time step. Each is a thin torch.nn.Module trained by
autograd; its hand-written twin is in ``mininet_layers.py``, with the same parameter names."""

from __future__ import annotations

import torch
from torch import nn


class _Recurrent:
    """batch_first, and one tensor out: the output sequence, or its last step (``output="last"``)."""

    # device and dtype named, so that the builder sees that the class takes them
    def __init__(self, *args, output: str = "sequence", device=None, dtype=None, **kwargs) -> None:
        super().__init__(*args, batch_first=True, device=device, dtype=dtype, **kwargs)
        self.output = output

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        out = super().forward(input)[0]
        return out[..., -1, :] if self.output == "last" else out

    def extra_repr(self) -> str:
        return super().extra_repr() + (", output='last'" if self.output == "last" else "")


class RNNLayer(_Recurrent, nn.RNN):
    pass


class LSTMLayer(_Recurrent, nn.LSTM):
    pass


class GRULayer(_Recurrent, nn.GRU):
    pass


class PositionEmbedding(nn.Module):
    """``x + weight[:length]`` for a (batch, length, features) input; weight ~ N(0, 1)."""

    def __init__(self, num_positions: int, embedding_dim: int, device=None, dtype=None) -> None:
        super().__init__()
        self.num_positions, self.embedding_dim = num_positions, embedding_dim
        self.weight = nn.Parameter(torch.empty(num_positions, embedding_dim, device=device, dtype=dtype))
        nn.init.normal_(self.weight)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input + self.weight[: input.shape[-2]]

    def extra_repr(self) -> str:
        return f"{self.num_positions}, {self.embedding_dim}"


def causal_mask(length: int, like: torch.Tensor) -> torch.Tensor:
    """0 on and below the diagonal, -inf above: position t attends to positions 0..t."""
    return nn.Transformer.generate_square_subsequent_mask(length, device=like.device, dtype=like.dtype)


class CausalSelfAttention(nn.MultiheadAttention):
    """A (batch, length, embed_dim) sequence attending to itself under a causal mask."""

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(embed_dim, num_heads, bias=bias, batch_first=True, device=device, dtype=dtype)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        mask = causal_mask(input.shape[-2], input)
        return super().forward(input, input, input, attn_mask=mask, is_causal=True, need_weights=False)[0]


class Residual(nn.Module):
    """``x + body(x)``, body a Sequential of the spec's layers."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.body = nn.Sequential(*layers)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input + self.body(input)


class PerStepLoss(nn.Module):
    """A loss of (batch, length, classes) outputs against (batch, length) targets: the (batch * length)
    rows through the wrapped loss, which is what a per-character mean of the loss is."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        rows = target.dim() if target.dim() < input.dim() else target.dim() - 1
        return self.loss(input.flatten(0, rows - 1), target.flatten(0, rows - 1))
