"""TransformerEncoderLayer and TransformerEncoder: self-attention and a feed-forward block, with
residual connections and layer norms, backward by hand (each part's own backward, chained)."""

from __future__ import annotations

import copy
from typing import Callable

import torch
import torch.nn.functional as F

from .activation import GELU, ReLU
from .attention import MultiheadAttention, _dtype_of, canonical_mask
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

# torch's activations by name, and the functional forms torch accepts, as mininet modules
_ACTIVATIONS: dict[object, Callable[[], Module]] = {"relu": ReLU, "gelu": GELU, F.relu: ReLU, F.gelu: GELU}


class TransformerEncoderLayer(Module):
    r"""One encoder layer of "Attention Is All You Need", torch.nn.TransformerEncoderLayer's parameters
    (self_attn.*, linear1, linear2, norm1, norm2), arguments and numbers.

    Forward, with SA(x) = dropout1(self_attn(x, x, x)[0]) (need_weights=False) and
    FF(x) = dropout2(linear2(dropout(activation(linear1(x))))):
        norm_first=False (post-norm):  h = norm1(x + SA(x)),   y = norm2(h + FF(h))
        norm_first=True (pre-norm):    h = x + SA(norm1(x)),   y = h + FF(norm2(h))
    Backward (g = dL/dy; each part's backward is its own module's, chained in reverse):
        post-norm:  gh = norm2'(g);  gh += FF'(gh);  gu = norm1'(gh);  dL/dx = gu + SA'(gu)
        pre-norm:   gh = g + norm2'(FF'(g));  dL/dx = gh + norm1'(SA'(gh))
    where SA'(g) is the sum of self_attn's query, key and value gradients (x is all three).

    torch's eval-mode fast path (a fused kernel under no_grad) computes the same formulas; mininet
    always runs the ones above. The dropouts draw in torch's order (attention weights, dropout1, dropout,
    dropout2), so on the CPU the same seed gives torch's masks.

    Args:
        d_model: number of features E.
        nhead: number of attention heads.
        dim_feedforward: width of the feed-forward block.
        dropout: probability of every dropout (attention weights included).
        activation: "relu" or "gelu", torch.nn.functional.relu or gelu, or a mininet module.
        layer_norm_eps: eps of both layer norms.
        batch_first: inputs and output are (N, S, E) instead of (S, N, E).
        norm_first: pre-norm instead of post-norm.
        bias: biases in the linear layers, the attention and the layer norms.
        device, dtype: where and in which dtype the parameters are created.

    Shape:
        - src: (S, N, E), (N, S, E) with batch_first, or (S, E) unbatched. Output: the same shape.
        - src_mask: (S, S) or (N * nhead, S, S); src_key_padding_mask: (N, S) or (S,) unbatched; bool
          (True = masked) or float (added to the attention scores).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable | Module = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        # torch's construction order: the same initialisation draws
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            **factory)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, Module):
            self.activation = activation  # a submodule, as in torch
        elif isinstance(activation, str) or activation in _ACTIVATIONS:
            if activation not in _ACTIVATIONS:
                raise RuntimeError(f"activation should be relu/gelu, not {activation}")
            # torch keeps a function here, not a submodule: kept out of the registry likewise
            object.__setattr__(self, "activation", _ACTIVATIONS[activation]())
        else:
            raise TypeError(f"{self._get_name()}: activation must be 'relu', 'gelu', F.relu, F.gelu or a mininet "
                            f"Module (with a backward), got {activation!r}")
        self.activation_relu_or_gelu = (1 if isinstance(self.activation, ReLU)
                                        else 2 if isinstance(self.activation, GELU) else 0)
        self._called = False

    def forward(self, src: torch.Tensor, src_mask: torch.Tensor | None = None,
                src_key_padding_mask: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
        padding = canonical_mask(src_key_padding_mask, "src_key_padding_mask", _dtype_of(src_mask), "src_mask",
                                 src.dtype)
        mask = canonical_mask(src_mask, "src_mask", None, "", src.dtype, check_other=False)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), mask, padding, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, mask, padding, is_causal))
            x = self.norm2(x + self._ff_block(x))
        self._called = True
        return x

    def _sa_block(self, x: torch.Tensor, mask: torch.Tensor | None, padding: torch.Tensor | None,
                  is_causal: bool) -> torch.Tensor:
        attn = self.self_attn
        # positional: (query, key, value, key_padding_mask, need_weights, attn_mask, average, is_causal)
        return self.dropout1(attn(x, x, x, padding, False, mask, True, is_causal)[0])

    def _ff_block(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _sa_grad(self, grad: torch.Tensor) -> torch.Tensor:
        module = self.dropout1
        return self.self_attn._backward(module.backward(grad), None, summed=True)

    def _ff_grad(self, grad: torch.Tensor) -> torch.Tensor:
        for module in (self.dropout2, self.linear2, self.dropout, self.activation, self.linear1):
            grad = module.backward(grad)
        return grad

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        if not self._called:
            raise self._missing_forward()
        if self.norm_first:
            grad = grad_output + _through(self.norm2, self._ff_grad(grad_output))
            return grad + _through(self.norm1, self._sa_grad(grad))
        grad = _through(self.norm2, grad_output)
        grad = _through(self.norm1, grad + self._ff_grad(grad))
        return grad + self._sa_grad(grad)

    def free_saved(self) -> None:
        super().free_saved()
        if "activation" not in self._modules:  # the unregistered one made from a name
            self.activation.free_saved()


def _through(module: Module, grad: torch.Tensor) -> torch.Tensor:
    """d loss / d input of ``module`` from d loss / d its output."""
    return module.backward(grad)


class TransformerEncoder(Module):
    r"""A stack of ``num_layers`` copies of an encoder layer, then an optional norm, as
    torch.nn.TransformerEncoder (state_dict keys layers.0..., norm...).

    Forward:  x_0 = src,  x_i = layers[i-1](x_{i-1}, mask, src_key_padding_mask),  y = norm(x_n) (if norm)
    Backward: g = norm'(dL/dy);  g = layers[i]'(g) for i = n-1 .. 0;  dL/dsrc = g

    Every layer is a deep copy of ``encoder_layer`` (same initial values, separate parameters), as torch.
    ``enable_nested_tensor`` is accepted and has no effect: torch's nested-tensor fast path (eval, no_grad,
    a padding mask) returns 0 at padded positions, mininet computes them as in training.
    ``is_causal=None`` (torch: detect whether ``mask`` is the causal mask) needs no detection here: a
    causal ``mask`` and the causal hint give the same numbers, so only ``is_causal=True`` is passed on.

    Args:
        encoder_layer: a TransformerEncoderLayer (or any mininet module with its forward signature).
        num_layers: how many copies.
        norm: applied to the last layer's output (e.g. a LayerNorm), or None.
        enable_nested_tensor: accepted for torch's signature; no effect.
        mask_check: accepted for torch's signature (it only gates the nested-tensor path); no effect.

    Shape:
        as TransformerEncoderLayer; ``mask`` is its ``src_mask``.
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"{self._get_name()}: encoder_layer must be a mininet Module, "
                            f"got {type(encoder_layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False  # mininet never converts to nested tensors
        self.mask_check = mask_check
        self._called = False

    def forward(self, src: torch.Tensor, mask: torch.Tensor | None = None,
                src_key_padding_mask: torch.Tensor | None = None, is_causal: bool | None = None) -> torch.Tensor:
        padding = canonical_mask(src_key_padding_mask, "src_key_padding_mask", _dtype_of(mask), "mask", src.dtype)
        mask = canonical_mask(mask, "mask", None, "", src.dtype, check_other=False)
        causal = is_causal is True
        x = src
        for layer in self.layers:
            x = layer(x, mask, padding, causal)
        if self.norm is not None:
            x = self.norm(x)
        self._called = True
        return x

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        if not self._called:
            raise self._missing_forward()
        grad = grad_output
        modules = list(self.layers) + ([] if self.norm is None else [self.norm])
        for module in reversed(modules):
            grad = module.backward(grad)
        return grad
