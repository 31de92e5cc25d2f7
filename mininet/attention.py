"""MultiheadAttention: scaled dot-product attention over several heads, with its backward by hand."""

from __future__ import annotations

import functools
import math
import warnings
from typing import NamedTuple

import torch
import torch.nn.functional as F

from . import init
from .dropout import _FUSED_DEVICES, bernoulli_mask
from .linear import NonDynamicallyQuantizableLinear
from .module import Module
from .parameter import Parameter


def canonical_mask(mask: torch.Tensor | None, mask_name: str, other_type: torch.dtype | None, other_name: str,
                   target_type: torch.dtype, check_other: bool = True) -> torch.Tensor | None:
    """torch's ``F._canonical_mask``: a boolean mask (True = masked) becomes an additive float mask,
    -inf where True and 0 elsewhere; a float mask is returned as it is."""
    if mask is None:
        return None
    is_float = torch.is_floating_point(mask)
    if mask.dtype != torch.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      "Use same type for both instead.", stacklevel=3)
    if not is_float:
        mask = torch.zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


def _dtype_of(t: torch.Tensor | None) -> torch.dtype | None:
    return None if t is None else t.dtype


class _Saved(NamedTuple):
    """What ``forward`` keeps for ``backward`` (a tuple of tensors: ``free_saved`` drops it)."""

    groups: list[tuple[torch.Tensor, int, int]]  # (input as (A, B, E_in), first projection, how many)
    batch_first: bool  # the layout of the inputs: (N, L, E) if True, else (L, N, E)
    batched: bool
    n: int  # batch size N
    src_len: int  # S, the keys given (before bias_k and the zero key)
    q_scaled: torch.Tensor  # (N*H, L, D), q / sqrt(D)
    k: torch.Tensor  # (N*H, S', D), with bias_k and the zero key appended
    v: torch.Tensor  # (N*H, S', D)
    probs: torch.Tensor  # P = softmax(scores), (N*H, L, S')
    drop_mask: torch.Tensor | None  # the scaled dropout mask of P (None: no dropout)
    drop_scale: float  # 1/(1-p) when drop_mask is the fused kernel's boolean mask, else 1
    weights_out: bool  # whether the attention weights were returned
    average: bool


class MultiheadAttention(Module):
    r"""Multi-head attention, torch.nn.MultiheadAttention's parameters, arguments and numbers.

    Forward (per batch element; H heads of size D = embed_dim / H; the inputs are projected by the
    rows of in_proj_weight, or by q/k/v_proj_weight when kdim or vdim differ from embed_dim):
        q = query W_q^T + b_q,  k = key W_k^T + b_k,  v = value W_v^T + b_v, each split into H heads;
        bias_k / bias_v (add_bias_kv) and then a zero key and value (add_zero_attn) are appended as
        extra source positions; for each head
            scores = M + (q / sqrt(D)) k^T          M: the additive mask (attn_mask, key_padding_mask,
                                                    a boolean mask turned into -inf where True)
            P = softmax(scores) over the source positions
            Pd = P * m                              m: the dropout mask (training), else Pd = P
            O = Pd v
        heads concatenated, output = out_proj(O) = O W_o^T + b_o;
        weights = Pd, averaged over the heads (average_attn_weights) or per head.
    Backward (G = dL/d output, Gw = dL/d weights, which reaches Pd directly):
        dO = out_proj.backward(G)              (accumulates out_proj's weight and bias gradients)
        dPd = dO v^T + Gw (divided by H and repeated over the heads when averaged)
        dv = Pd^T dO,  dP = dPd * m
        dS = P * (dP - sum(dP * P, over the source positions))    (the softmax's Jacobian)
        dq = dS k / sqrt(D),  dk = dS^T (q / sqrt(D))
        the appended positions' rows of dk, dv go to bias_k, bias_v (summed over the batch);
        dW_q += dq^T query, db_q += sum of dq (the same for k and v), d query = dq W_q, ...
    ``backward(grad_attn_output, grad_attn_weights=None)`` (Module's multi-tensor convention: one
    gradient per output, None for one that did not reach the loss) returns (d query, d key, d value);
    when one tensor was passed as query, key and value, its gradient is their sum (as autograd would add).

    Computed batched over batch * heads (one matrix product for q, k and v when query, key and value
    are one tensor, as torch does), no loop over heads or positions. With need_weights=False torch
    runs its fused scaled_dot_product_attention; mininet computes the same formulas (equal to rounding,
    and with the same dropout draws on the CPU). is_causal is a hint, as in torch: the causal mask
    replaces attn_mask only where torch's fused path would use it (need_weights=False and no
    key_padding_mask); attn_mask must be given either way.

    Args:
        embed_dim: total dimension of the model, E.
        num_heads: number of heads H (E must be divisible by H).
        dropout: probability of zeroing an attention weight in training.
        bias: in_proj_bias and out_proj.bias.
        add_bias_kv: learn bias_k, bias_v of shape (1, 1, E), appended to the keys and values.
        add_zero_attn: append a zero key and value.
        kdim, vdim: feature sizes of key and value (default E).
        batch_first: batched inputs and outputs are (N, L, E) instead of (L, N, E).
        device, dtype: where and in which dtype the parameters are created.

    Shape:
        - query: (L, N, E) or (N, L, E) with batch_first, or (L, E) unbatched.
        - key: (S, N, kdim), value: (S, N, vdim) (batch_first: N first; unbatched: no N).
        - key_padding_mask: (N, S) or (S,) unbatched, bool (True = ignore) or float (added).
        - attn_mask: (L, S) or (N * H, L, S), bool (True = not allowed) or float (added).
        - Outputs: attn_output like query with E features; attn_weights (N, L, S) averaged or
          (N, H, L, S) per head ((L, S) / (H, L, S) unbatched), or None when need_weights=False.
    """

    #: one gradient per output in backward, one per input out (Module's multi-tensor convention)
    multi_tensor = True

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                             f"and num_heads={num_heads} instead")
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        # torch's registration order (the state_dict's key order) and creation order
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(torch.empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(torch.empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(torch.empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(torch.empty((3 * embed_dim, embed_dim), **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(torch.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        # Linear's own draws happen here, before _reset_parameters' (torch's order)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(torch.empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(torch.empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._saved: _Saved | None = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """torch's: xavier_uniform_ on the input projections, zero biases, xavier_normal_ for bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight.data)
        else:
            init.xavier_uniform_(self.q_proj_weight.data)
            init.xavier_uniform_(self.k_proj_weight.data)
            init.xavier_uniform_(self.v_proj_weight.data)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias.data, 0.0)
            init.constant_(self.out_proj.bias.data, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k.data)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v.data)

    # ------------------------------------------------------------------ helpers
    def _projection(self, first: int, count: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Weight and bias of projections first .. first+count-1 (0: q, 1: k, 2: v)."""
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight.data[first * e:(first + count) * e]
        else:
            w = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)[first].data
        b = None if self.in_proj_bias is None else self.in_proj_bias.data[first * e:(first + count) * e]
        return w, b

    def _to_heads(self, y: torch.Tensor, a: int, b: int, count: int, batch_first: bool) -> torch.Tensor:
        """(A*B, count*E) rows in the inputs' layout -> (count, N*H, length, D)."""
        h, d = self.num_heads, self.head_dim
        y = y.view(a, b, count, h, d)
        y = y.permute(2, 0, 3, 1, 4) if batch_first else y.permute(2, 1, 3, 0, 4)
        n, length = (a, b) if batch_first else (b, a)
        return y.reshape(count, n * h, length, d)

    def _from_heads(self, t: torch.Tensor, n: int, batch_first: bool) -> torch.Tensor:
        """(count, N*H, length, D) -> (A*B, count*E) rows in the inputs' layout (_to_heads reversed)."""
        count, _, length, d = t.shape
        t = t.view(count, n, self.num_heads, length, d)
        t = t.permute(1, 3, 0, 2, 4) if batch_first else t.permute(3, 1, 0, 2, 4)
        return t.reshape(n * length, count * self.embed_dim)

    def _heads_to_rows(self, o: torch.Tensor, n: int) -> torch.Tensor:
        """(N*H, L, D) -> (L, N, E), heads concatenated."""
        length = o.shape[1]
        o = o.view(n, self.num_heads, length, self.head_dim).permute(2, 0, 1, 3)
        return o.reshape(length, n, self.embed_dim)

    def _appended(self, bias: Parameter, n: int) -> torch.Tensor:
        """bias_k or bias_v as one extra source position of every (batch, head): (N*H, 1, D)."""
        h, d = self.num_heads, self.head_dim
        return bias.data.view(1, h, 1, d).expand(n, h, 1, d).reshape(n * h, 1, d)

    # ------------------------------------------------------------------ forward
    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None, need_weights: bool = True,
                attn_mask: torch.Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.replicas is not None:
            raise NotImplementedError(f"{self._get_name()} does not support replicate() yet")
        batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, self.num_heads)
        kpm = canonical_mask(key_padding_mask, "key_padding_mask", _dtype_of(attn_mask), "attn_mask", query.dtype)
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                               "module method `generate_square_subsequent_mask` to create this mask.")
        # torch's fused path (need_weights=False, no padding mask) applies the causal mask itself
        causal = is_causal and kpm is None and not need_weights
        mask = None if causal else canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)

        same_qkv, same_kv = query is key and key is value, key is value
        if not batched:  # one sequence: a batch of one, sequence first (batch_first is ignored)
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
            kpm = None if kpm is None else kpm.unsqueeze(0)
        batch_first = self.batch_first and batched
        e, h, d = self.embed_dim, self.num_heads, self.head_dim
        if query.shape[-1] != e:
            raise AssertionError(f"was expecting embedding dimension of {e}, but got {query.shape[-1]}")
        if self._qkv_same_embed_dim and key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
        for name, t, size in (("key", key, self.kdim), ("value", value, self.vdim)):
            if t.shape[-1] != size:
                raise RuntimeError(f"{self._get_name()}: {name} has {t.shape[-1]} features, expected {size}")
        n = query.shape[0] if batch_first else query.shape[1]
        tgt_len = query.shape[1] if batch_first else query.shape[0]
        src_len = key.shape[1] if batch_first else key.shape[0]

        # the input projections, one matrix product per distinct input tensor
        if same_qkv and self._qkv_same_embed_dim:
            groups = [(query, 0, 3)]
        elif same_kv and self._qkv_same_embed_dim:
            groups = [(query, 0, 1), (key, 1, 2)]
        else:
            groups = [(query, 0, 1), (key, 1, 1), (value, 2, 1)]
        heads: list[torch.Tensor] = []
        for x, first, count in groups:
            w, b = self._projection(first, count)
            x2 = x.reshape(-1, x.shape[-1])
            y = torch.mm(x2, w.t()) if b is None else torch.addmm(b, x2, w.t())
            heads.extend(self._to_heads(y, x.shape[0], x.shape[1], count, batch_first).unbind(0))
        q, k, v = heads

        if mask is not None:
            if mask.dim() == 2:
                if mask.shape != (tgt_len, src_len):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {mask.shape}, but should be "
                                       f"{(tgt_len, src_len)}.")
                mask = mask.unsqueeze(0)
            elif mask.shape != (n * h, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {mask.shape}, but should be "
                                   f"{(n * h, tgt_len, src_len)}.")
        extra = 0  # source positions appended after the keys given
        if self.bias_k is not None and self.bias_v is not None:
            k = torch.cat([k, self._appended(self.bias_k, n)], dim=1)
            v = torch.cat([v, self._appended(self.bias_v, n)], dim=1)
            extra += 1
        elif self.bias_k is not None or self.bias_v is not None:
            raise AssertionError("bias_k and bias_v must both be set or both be None")
        if self.add_zero_attn:
            zeros = torch.zeros((n * h, 1, d), dtype=k.dtype, device=k.device)
            k, v = torch.cat([k, zeros], dim=1), torch.cat([v, zeros], dim=1)
            extra += 1
        total = src_len + extra
        if extra and mask is not None:
            mask = F.pad(mask, (0, extra))  # the appended positions are never masked
        if kpm is not None:
            if kpm.shape != (n, src_len):
                raise AssertionError(f"Expected key_padding_mask of shape {(n, src_len)}, got {tuple(kpm.shape)}")
            if extra:
                kpm = F.pad(kpm, (0, extra))
            kpm = kpm.view(n, 1, 1, total).expand(-1, h, -1, -1).reshape(n * h, 1, total)
            mask = kpm if mask is None else mask + kpm
        if causal:
            mask = _causal_mask(tgt_len, total, q.dtype, q.device)

        q_scaled = q * math.sqrt(1.0 / float(d))
        kt = k.transpose(1, 2)
        scores = torch.bmm(q_scaled, kt) if mask is None else torch.baddbmm(mask, q_scaled, kt)
        probs = torch.softmax(scores, dim=-1)
        drop_mask, drop_scale, weights = None, 1.0, probs
        p = self.dropout
        if self.training and p > 0.0:
            if p >= 1.0:
                drop_mask = torch.zeros((), dtype=probs.dtype, device=probs.device)
            elif probs.device.type in _FUSED_DEVICES:  # torch's F.dropout there: the fused kernel
                weights, drop_mask = torch.native_dropout(probs, p, True)
                drop_scale = 1.0 / (1.0 - p)
            else:
                drop_mask = bernoulli_mask(probs, p)
            if drop_scale == 1.0:
                weights = probs * drop_mask
        out_heads = torch.bmm(weights, v)
        layer = self.out_proj
        # (L, N, E) in memory, transposed for batch_first as torch's is: a Dropout after this layer
        # draws its mask in memory order, so the layout decides which element gets which draw
        out = layer(self._heads_to_rows(out_heads, n))
        if batch_first:
            out = out.transpose(0, 1)

        self._saved = _Saved(groups, batch_first, batched, n, src_len, q_scaled, k, v, probs, drop_mask,
                             drop_scale, need_weights, average_attn_weights)
        if not batched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        weights = weights.view(n, h, tgt_len, total)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, (weights if batched else weights.squeeze(0))

    # ------------------------------------------------------------------ backward
    def backward(self, grad_attn_output: torch.Tensor | None, grad_attn_weights: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(d query, d key, d value) from dL/d attn_output and dL/d attn_weights (each None: zero)."""
        return self._backward(grad_attn_output, grad_attn_weights, summed=False)

    def _backward(self, grad_output: torch.Tensor, grad_weights: torch.Tensor | None, summed: bool):
        """With ``summed`` (query, key and value were one tensor): d query + d key + d value, in one
        matrix product. Otherwise the tuple."""
        s = self._saved
        if s is None:
            raise self._missing_forward()
        h = self.num_heads
        n, total = s.n, s.k.shape[1]
        if grad_output is None:  # the output did not reach the loss: zero, in the (L, N, E) layout
            g = s.q_scaled.new_zeros((s.q_scaled.shape[1], n, self.embed_dim))
        else:
            g = grad_output if s.batched else grad_output.unsqueeze(1)
            if s.batch_first:
                g = g.transpose(0, 1)
        layer = self.out_proj
        d_rows = layer.backward(g)  # (L, N, E)
        d_out = self._to_heads(d_rows.reshape(-1, self.embed_dim), d_rows.shape[0], n, 1, False)[0]
        weights = s.probs if s.drop_mask is None else s.probs * s.drop_mask
        if s.drop_scale != 1.0:
            weights = weights * s.drop_scale
        d_weights = torch.bmm(d_out, s.v.transpose(1, 2))  # dPd
        if grad_weights is not None and s.weights_out:
            gw = grad_weights if s.batched else grad_weights.unsqueeze(0)
            gw = gw.unsqueeze(1) / h if s.average else gw  # the mean's gradient, repeated over the heads
            d_weights = (d_weights.view(n, h, -1, total) + gw).view(n * h, -1, total)
        src_len = s.src_len
        # q, k and v from one tensor and no appended position: their gradients are written side by side
        # into one buffer, which the projection's backward reads as it is (no stacking copy)
        packed = torch.empty((3,) + s.q_scaled.shape, dtype=d_out.dtype, device=d_out.device) \
            if len(s.groups) == 1 and total == src_len else None
        dv = torch.bmm(weights.transpose(1, 2), d_out, out=None if packed is None else packed[2])
        dp = d_weights
        if s.drop_mask is not None:
            dp = dp * s.drop_mask if s.drop_scale == 1.0 else dp * s.drop_mask * s.drop_scale
        # the softmax's Jacobian, P * (dP - sum(dP * P)), as ATen's one pass computes it (the same bits)
        d_scores = torch._softmax_backward_data(dp, s.probs, -1, s.probs.dtype)
        scale = math.sqrt(1.0 / float(self.head_dim))
        if packed is not None:
            torch.bmm(d_scores, s.k, out=packed[0]).mul_(scale)
            torch.bmm(d_scores.transpose(1, 2), s.q_scaled, out=packed[1])
            return self._backward_projections(s, [packed], summed)
        dq = torch.bmm(d_scores, s.k) * scale
        dk = torch.bmm(d_scores.transpose(1, 2), s.q_scaled)
        for bias, grad in ((self.bias_k, dk), (self.bias_v, dv)):
            if bias is not None and bias.requires_grad:  # the appended position, summed over the batch
                bias.accumulate(grad[:, src_len].reshape(n, self.embed_dim).sum(0).view(1, 1, self.embed_dim))
        parts = [dq, dk[:, :src_len], dv[:, :src_len]]
        return self._backward_projections(s, [torch.stack(parts[first:first + count]) for _, first, count in s.groups],
                                          summed)

    def _backward_projections(self, s: _Saved, stacked: list[torch.Tensor], summed: bool):
        """The input projections' backward, from each group's (count, N*H, length, D) head gradients."""
        w_grads, b_grads, x_grads = [], [], []
        for (x, first, count), heads in zip(s.groups, stacked):
            d = self._from_heads(heads, s.n, s.batch_first)
            x2 = x.reshape(-1, x.shape[-1])
            w, _ = self._projection(first, count)
            w_grads.append(torch.mm(d.t(), x2))
            b_grads.append(d.sum(0))
            if count == 1 or summed:
                x_grads.append(torch.mm(d, w).view(x.shape))
            else:  # one product per projection, batched: the inputs' gradients kept apart
                e = self.embed_dim
                dx = torch.bmm(d.view(-1, count, e).transpose(0, 1), w.view(count, e, -1))
                x_grads.extend(t.view(x.shape) for t in dx.unbind(0))
        if self._qkv_same_embed_dim:
            self.in_proj_weight.accumulate(w_grads[0] if len(w_grads) == 1 else torch.cat(w_grads))
        else:
            for p, grad in zip((self.q_proj_weight, self.k_proj_weight, self.v_proj_weight), w_grads):
                p.accumulate(grad)
        if self.in_proj_bias is not None:
            self.in_proj_bias.accumulate(b_grads[0] if len(b_grads) == 1 else torch.cat(b_grads))
        if not s.batched:
            x_grads = [t.squeeze(1) for t in x_grads]
        return x_grads[0] if summed else tuple(x_grads)


@functools.lru_cache(maxsize=16)
def _causal_mask(tgt_len: int, src_len: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """What scaled_dot_product_attention(is_causal=True) adds: -inf above the diagonal, (1, L, S); made
    once per shape (only read, never written)."""
    allowed = torch.ones((tgt_len, src_len), dtype=torch.bool, device=device).tril()
    return torch.zeros((tgt_len, src_len), dtype=dtype, device=device).masked_fill_(
        allowed.logical_not(), float("-inf")).unsqueeze(0)


def _check_shapes(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, key_padding_mask: torch.Tensor | None,
                  attn_mask: torch.Tensor | None, num_heads: int) -> bool:
    """torch's ``_mha_shape_check``: whether the inputs are batched; AssertionError where shapes disagree."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                                 f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                 f"but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                                 f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or "
                                     f"3-D but found {attn_mask.dim()}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and attn_mask.shape != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D "
                         "query tensor")
