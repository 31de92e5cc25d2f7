"""Embedding: a lookup table of vectors, indexed by integers."""

from __future__ import annotations

import torch

from . import init
from .module import Module
from .parameter import Parameter


class TableGrad:
    """dL/d an Embedding's output already summed by table row (what its backward's scatter-add gives):
    handed back by a layer that took that output as rows of the table (``RNNBase.take_rows_of``)."""

    def __init__(self, grad: torch.Tensor) -> None:
        self.grad = grad  # (num_embeddings, embedding_dim)


class Embedding(Module):
    r"""A table of ``num_embeddings`` vectors; the output holds the rows its integer input names.

    Forward:  y[..., :] = W[idx[...], :]
              (with max_norm: first every row that idx names whose p-norm exceeds max_norm is rescaled
              in place, W[k] *= max_norm / (||W[k]||_p + 1e-7), as torch's ``embedding_renorm_``)
    Backward: dL/dW[k] += sum over the positions j with idx[j] = k of dL/dy[j]   (a scatter-add,
              ``index_add_``), divided by the number of such positions with ``scale_grad_by_freq``;
              the row ``padding_idx`` gets no gradient. The input is indices: ``backward`` returns None.

    Default initialisation is torch's: W ~ N(0, 1), then the row ``padding_idx`` set to zero (the same
    draws for the same seed).

    Args:
        num_embeddings: rows of the table.
        embedding_dim: size of each vector.
        padding_idx: a row (negative: counted from the end) initialised to zero and never updated.
        max_norm: renormalise the rows looked up to this norm at most (modifies ``weight`` in forward).
        norm_type: p of the p-norm for max_norm.
        scale_grad_by_freq: divide each row's gradient by the number of times the batch names it.
        sparse: sparse gradients are not supported (``NotImplementedError``).
        _weight: an initial table ``(num_embeddings, embedding_dim)`` (not copied), instead of N(0, 1).
        _freeze: create the weight frozen (``requires_grad=False``).
        device, dtype: of the table.

    Shape:
        - Input: ``(*)`` integers (int64 or int32) in [0, num_embeddings); replicated: ``(R, *)``.
        - Output: ``(*, embedding_dim)``; replicated ``(R, *, embedding_dim)``.
        - weight: ``(num_embeddings, embedding_dim)`` (replicated: a leading ``R``).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: torch.Tensor | None = None, _freeze: bool = False,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if sparse:
            raise NotImplementedError("Embedding(sparse=True): mininet has no sparse gradients; use sparse=False")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            if padding_idx < 0:
                padding_idx = num_embeddings + padding_idx
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(torch.empty((num_embeddings, embedding_dim), device=device, dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        self._index: torch.Tensor | None = None

    def reset_parameters(self) -> None:
        """torch's init: N(0, 1), then the padding row zeroed."""
        init.normal_(self.weight.data)
        if self.padding_idx is not None:
            self.weight.data[..., self.padding_idx, :].fill_(0)

    @classmethod
    def from_pretrained(cls, embeddings: torch.Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose table is ``embeddings`` (2-D, not copied), frozen unless ``freeze=False``."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)

    def _flat_index(self, idx: torch.Tensor) -> torch.Tensor:
        """The input as row numbers of the table seen as one ``(R * num_embeddings, D)`` matrix."""
        if self.replicas is None:
            return idx.reshape(-1)
        if idx.dim() < 1 or idx.shape[0] != self.replicas:
            raise ValueError(f"Embedding holds {self.replicas} replicas: expected indices of shape (R={self.replicas}, "
                             f"*), got {tuple(idx.shape)}")
        offsets = torch.arange(self.replicas, device=idx.device) * self.num_embeddings
        return (idx.reshape(self.replicas, -1) + offsets.unsqueeze(1)).reshape(-1)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if input.dtype not in (torch.int64, torch.int32):
            raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                               f"Long, Int; but got {input.dtype} instead (Embedding looks rows up by integer index)")
        w = self.weight.data
        table = w.reshape(-1, self.embedding_dim)
        flat = self._flat_index(input)
        if self.max_norm is not None:
            self._renorm_(table, flat)
        self._index = flat
        # index_select: torch.embedding's lookup, and its "index out of range in self" IndexError
        out = table.index_select(0, flat).view(*input.shape, self.embedding_dim)
        if self.replicas is None:
            out._mininet_rows_of = (self, table, input)  # for a layer that takes it as rows of the table
        return out

    def _renorm_(self, table: torch.Tensor, flat: torch.Tensor) -> None:
        """torch's ``embedding_renorm_``: each row looked up (once, however often it is named) whose norm
        exceeds max_norm is scaled by max_norm / (norm + 1e-7), the factor computed in double as ATen does.
        A mask over all rows instead of ``unique``: no value is read back to the host."""
        named = torch.zeros(table.shape[0], dtype=torch.bool, device=table.device)
        named[flat] = True
        norms = torch.linalg.vector_norm(table, self.norm_type, dim=1).double()
        scale = torch.where(named & (norms > self.max_norm), self.max_norm / (norms + 1e-7), 1.0)
        table.mul_(scale.to(table.dtype).unsqueeze(1))

    def backward(self, grad_output: torch.Tensor) -> None:
        flat = self._index
        if flat is None:
            raise self._missing_forward()
        if not self.weight.requires_grad:
            return None
        w = self.weight.data
        rows = w.numel() // self.embedding_dim
        if isinstance(grad_output, TableGrad):
            self.weight.accumulate(self._by_row(grad_output.grad, flat).view(w.shape))
            return None
        g = grad_output.reshape(-1, self.embedding_dim)
        if self.scale_grad_by_freq:
            counts = torch.zeros(rows, dtype=g.dtype, device=g.device).index_add_(
                0, flat, torch.ones_like(flat, dtype=g.dtype))
            g = g / counts[flat].unsqueeze(1)
        if self.padding_idx is not None:
            pad = (flat % self.num_embeddings) == self.padding_idx
            g = g.masked_fill(pad.unsqueeze(1), 0)
        grad = torch.zeros((rows, self.embedding_dim), dtype=g.dtype, device=g.device).index_add_(0, flat, g)
        self.weight.accumulate(grad.view(w.shape))
        return None

    def _by_row(self, grad: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
        """A gradient already summed by row: divided by the row's count with scale_grad_by_freq, the
        padding row zeroed."""
        if self.scale_grad_by_freq:
            counts = torch.zeros(grad.shape[0], dtype=grad.dtype, device=grad.device).index_add_(
                0, flat, torch.ones_like(flat, dtype=grad.dtype))
            grad = grad / counts.clamp(min=1).unsqueeze(1)
        if self.padding_idx is not None:
            grad = grad.clone()
            grad[self.padding_idx] = 0
        return grad

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s
