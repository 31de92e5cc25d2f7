"""The hand-written side of the spec layers that are not one torch.nn class (their torch.nn twins are
in ``torch_layers.py``, with the same parameter names): each forward and backward by hand, with a
replica dimension first where the layer inside supports one."""

from __future__ import annotations

import torch

import mininet as mn
from mininet.parameter import Parameter


class _Recurrent:
    """batch_first, and one tensor out: the output sequence, or its last step (``output="last"``).

    Backward: the output's gradient (for ``last``: zero at every other step) goes through the
    layer's BPTT with no gradient for h_n (and c_n), which did not reach the loss."""

    multi_tensor = False

    # device and dtype named, so that the builder sees that the class takes them
    def __init__(self, *args, output: str = "sequence", device=None, dtype=None, **kwargs) -> None:
        super().__init__(*args, batch_first=True, device=device, dtype=dtype, **kwargs)
        self.output = output

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        out = super().forward(input)[0]
        if self.output != "last":
            return out
        self.__dict__["_out_shape"] = out.shape
        return out[..., -1, :]

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        if self.output == "last":
            g = grad_output.new_zeros(self._out_shape)
            g[..., -1, :] = grad_output
            grad_output = g
        return super().backward(grad_output)[0]

    def extra_repr(self) -> str:
        return super().extra_repr() + (", output='last'" if self.output == "last" else "")


class RNNLayer(_Recurrent, mn.RNN):
    pass


class LSTMLayer(_Recurrent, mn.LSTM):
    pass


class GRULayer(_Recurrent, mn.GRU):
    pass


class PositionEmbedding(mn.Module):
    """Forward: y = x + W[:T] for x of shape (..., T, D). Backward: dL/dx = g, dL/dW[:T] += g summed over
    every leading dimension (rows T.. of W get zero). W ~ N(0, 1), as torch's twin draws it."""

    def __init__(self, num_positions: int, embedding_dim: int, device=None, dtype=None) -> None:
        super().__init__()
        self.num_positions, self.embedding_dim = num_positions, embedding_dim
        self.weight = Parameter(torch.empty(num_positions, embedding_dim, device=device, dtype=dtype))
        self.weight.data.normal_()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        T = input.shape[-2]
        self.__dict__["_length"] = T
        w = self.weight.data
        rows = w[:T] if w.dim() == 2 else w[:, :T].unsqueeze(1)  # replicated: (R, 1, T, D) over (R, N, T, D)
        return input + rows

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        T, w = self._length, self.weight.data
        grad = torch.zeros_like(w)
        if w.dim() == 2:
            grad[:T] = grad_output.reshape(-1, T, w.shape[-1]).sum(0)
        else:
            grad[:, :T] = grad_output.reshape(w.shape[0], -1, T, w.shape[-1]).sum(1)
        self.weight.accumulate(grad)
        return grad_output

    def extra_repr(self) -> str:
        return f"{self.num_positions}, {self.embedding_dim}"


class CausalSelfAttention(mn.MultiheadAttention):
    """A (batch, length, embed_dim) sequence attending to itself under a causal mask. Backward: the
    sequence was query, key and value at once, so its gradient is the sum of the three."""

    multi_tensor = False

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(embed_dim, num_heads, bias=bias, batch_first=True, device=device, dtype=dtype)
        self._masks: dict = {}

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        T = input.shape[-2]
        key = (T, input.dtype, input.device)
        mask = self._masks.get(key)
        if mask is None:
            mask = self._masks[key] = torch.triu(torch.full((T, T), float("-inf"), dtype=input.dtype,
                                                            device=input.device), diagonal=1)
        return super().forward(input, input, input, attn_mask=mask, is_causal=True, need_weights=False)[0]

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        # d query + d key + d value as one product with the stacked input projections (no sum of three)
        return self._backward(grad_output, None, summed=True)


class Residual(mn.Module):
    """Forward: y = x + f(x), f a Sequential of the spec's layers. Backward: dL/dx = g + f.backward(g)."""

    def __init__(self, *layers: mn.Module) -> None:
        super().__init__()
        self.body = mn.Sequential(*layers)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input + self.body(input)

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output + self.body.backward(grad_output)


class PerStepLoss(mn.Module):
    """A loss of (batch, length, classes) outputs against (batch, length) targets: the (batch * length)
    rows through the wrapped loss (replicated: one more leading dimension on both). Backward: the
    wrapped loss's gradient in the output's shape."""

    def __init__(self, loss: mn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.__dict__["_shape"] = input.shape
        lead = 1 if self.replicas is not None else 0
        rows = (target.dim() if target.dim() < input.dim() else target.dim() - 1) - lead
        return self.loss(input.flatten(lead, lead + rows - 1), target.flatten(lead, lead + rows - 1))

    def backward(self, grad_output: torch.Tensor | None = None) -> torch.Tensor:
        return self.loss.backward(grad_output).view(self._shape)
