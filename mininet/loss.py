"""Loss functions: ``loss = criterion(output, target)``, then ``criterion.backward()`` = d loss / d output."""

from __future__ import annotations

import torch

from .module import Module

_REDUCTIONS = ("mean", "sum")


class _Loss(Module):
    """Common base: the ``reduction`` argument, the calling convention and the replica dimension.

    ``backward(grad_output=None)`` seeds the chain rule with ``grad_output`` (1 when omitted, as
    ``loss.backward()`` does in torch). With replicas the loss is a vector of ``R`` per-replica losses
    and ``grad_output`` may be a tensor of shape ``(R,)``.
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{self._get_name()}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def __call__(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.forward(input, target)

    def replicate(self, n: int) -> Module:
        # Losses hold no trainable state: replicas only change which dimensions are reduced.
        object.__setattr__(self, "replicas", n)
        return self

    def _reduce_dims(self, t: torch.Tensor, keep: int = 0) -> tuple[int, ...]:
        """Dimensions that the reduction collapses: all of them, or all but the replica dimension."""
        first = 1 if self.replicas is not None else 0
        return tuple(range(first, t.dim() - keep))

    def _seed(self, grad_output: torch.Tensor | float | None, like: torch.Tensor) -> torch.Tensor | float:
        """Shape grad_output so it broadcasts against the unreduced per-element gradient."""
        if grad_output is None:
            return 1.0
        if isinstance(grad_output, torch.Tensor) and grad_output.dim() > 0:
            return grad_output.view(grad_output.shape + (1,) * (like.dim() - grad_output.dim()))
        return grad_output

    def _check_same_shape(self, input: torch.Tensor, target: torch.Tensor) -> None:
        if input.shape != target.shape:
            raise ValueError(f"{self._get_name()}: target shape {tuple(target.shape)} does not match "
                             f"input shape {tuple(input.shape)}")

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error.

    Forward:  L = mean((x - y)^2) over all elements (``reduction="sum"``: the sum)
    Backward: dL/dx = 2 (x - y) / n * g   with n the number of elements (1 for "sum"),
              computed as torch's ``mse_loss_backward``: (2/n) * (x - y) * g

    Args:
        reduction: "mean" or "sum".

    Shape:
        - Input: ``(*)``; Target: same shape; Output: scalar (replicated: ``(R,)``).
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self._check_same_shape(input, target)
        self._diff = input - target
        dims = self._reduce_dims(input)
        sq = self._diff * self._diff
        return sq.mean(dims) if self.reduction == "mean" else sq.sum(dims)

    def backward(self, grad_output: torch.Tensor | float | None = None) -> torch.Tensor:
        diff = getattr(self, "_diff", None)
        if diff is None:
            raise self._missing_forward()
        n = 1
        if self.reduction == "mean":
            for d in self._reduce_dims(diff):
                n *= diff.shape[d]
        grad = diff * (2.0 / n)
        seed = self._seed(grad_output, diff)
        return grad if isinstance(seed, float) and seed == 1.0 else grad * seed


class CrossEntropyLoss(_Loss):
    """Cross entropy of logits against class indices.

    Forward:  L = mean_i ( -log softmax(x_i)[t_i] )      (``reduction="sum"``: the sum)
    Backward: dL/dx_i = (softmax(x_i) - onehot(t_i)) / N * g   (N = batch size; 1 for "sum")

    Args:
        reduction: "mean" or "sum".

    Shape:
        - Input: ``(N, C)``; Target: ``(N,)`` int64 class indices in [0, C);
          Output: scalar (replicated: input ``(R, N, C)``, target ``(R, N)``, output ``(R,)``).
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if target.dtype != torch.long:
            raise TypeError(f"{self._get_name()}: class-index target must be int64 (torch.long), "
                            f"got {target.dtype}")
        if target.shape != input.shape[:-1]:
            raise ValueError(f"{self._get_name()}: target shape {tuple(target.shape)} does not match input "
                             f"shape {tuple(input.shape)} (expected {tuple(input.shape[:-1])})")
        logp = torch.log_softmax(input, dim=-1)
        index = target.unsqueeze(-1)
        try:
            picked = logp.gather(-1, index).squeeze(-1)
        except RuntimeError:
            c = input.shape[-1]
            raise ValueError(f"{self._get_name()}: target holds class indices outside [0, {c}) "
                             f"(min {int(target.min())}, max {int(target.max())}) for {c} classes") from None
        self._logp, self._index = logp, index
        dims = self._reduce_dims(picked)
        return -(picked.mean(dims) if self.reduction == "mean" else picked.sum(dims))

    def backward(self, grad_output: torch.Tensor | float | None = None) -> torch.Tensor:
        logp = getattr(self, "_logp", None)
        if logp is None:
            raise self._missing_forward()
        grad = logp.exp()
        grad.scatter_add_(-1, self._index, torch.full_like(self._index, -1, dtype=grad.dtype))
        if self.reduction == "mean":
            n = 1
            for d in self._reduce_dims(logp, keep=1):
                n *= logp.shape[d]
            grad.div_(n)
        seed = self._seed(grad_output, grad)
        return grad if isinstance(seed, float) and seed == 1.0 else grad * seed
