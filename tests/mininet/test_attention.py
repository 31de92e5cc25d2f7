"""Attention beyond the case tables: initial draws, repr, torch's eval fast paths, and errors.

Gradients and outputs over every option and mask are in the call-case table (mininet_cases.CALL_CASES),
run by test_parity_modules, test_gradcheck, test_device_neutral and test_no_autograd.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

import mininet

F64 = {"rtol": 1e-10, "atol": 1e-12}

MHA_SETTINGS = [
    ({}, "packed"),
    ({"bias": False}, "nobias"),
    ({"add_bias_kv": True, "add_zero_attn": True}, "bias_kv"),
    ({"kdim": 5, "vdim": 3}, "kdim-vdim"),
    ({"kdim": 5, "vdim": 3, "add_bias_kv": True, "bias": False, "batch_first": True}, "all"),
]


def assert_same_draws(build, seed: int = 3):
    """The same RNG state gives bit-identical parameters and leaves the RNG in the same state."""
    torch.manual_seed(seed)
    ours = build(mininet)
    rng = torch.get_rng_state()
    torch.manual_seed(seed)
    theirs = build(torch.nn)
    assert torch.equal(torch.get_rng_state(), rng)  # the same number of draws
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key, value in theirs_state.items():
        assert ours_state[key].dtype == value.dtype and torch.equal(ours_state[key], value), key
    return ours


@pytest.mark.parametrize("kwargs", [pytest.param(k, id=i) for k, i in MHA_SETTINGS])
def test_multihead_attention_init_draws_torchs_numbers(kwargs):
    mha = assert_same_draws(lambda nn: nn.MultiheadAttention(8, 2, **kwargs))
    assert type(mha.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    if kwargs.get("bias", True):  # zeroed after out_proj drew its own bias, as torch
        assert not mha.out_proj.bias.data.any() and not mha.in_proj_bias.data.any()


@pytest.mark.parametrize("kwargs", [{}, {"norm_first": True, "activation": "gelu", "bias": False}],
                         ids=["default", "norm_first-gelu-nobias"])
def test_encoder_init_draws_torchs_numbers(kwargs):
    assert_same_draws(lambda nn: nn.TransformerEncoderLayer(8, 2, 16, **kwargs))
    encoder = assert_same_draws(lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, **kwargs), 3, norm=nn.LayerNorm(8), enable_nested_tensor=False))
    # deep copies: equal values, separate parameters
    first, second = encoder.layers[0], encoder.layers[1]
    assert torch.equal(first.linear1.weight.data, second.linear1.weight.data)
    assert first.linear1.weight is not second.linear1.weight
    assert first.linear1.weight.data.data_ptr() != second.linear1.weight.data.data_ptr()


@pytest.mark.parametrize("build", [
    lambda nn: nn.MultiheadAttention(8, 2, kdim=4, bias=False),
    lambda nn: nn.TransformerEncoderLayer(8, 2, 16),
    lambda nn: nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU(approximate="tanh"), norm_first=True),
    lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8),
                                     enable_nested_tensor=False),
], ids=["MHA", "layer", "layer-module-activation", "encoder"])
def test_repr_reads_like_torch(build):
    assert repr(build(mininet)) == repr(build(torch.nn))


def loaded(build, dtype=torch.float64):
    ref = build(torch.nn).to(dtype)
    mod = build(mininet).to(dtype)
    mod.load_state_dict(ref.state_dict())
    return ref.eval(), mod.eval()


@pytest.mark.parametrize("padding", [False, True], ids=["no-mask", "padding-mask"])
def test_eval_fast_path_agrees_in_float64(padding):
    # Under no_grad in eval, torch runs fused kernels (_transformer_encoder_layer_fwd,
    # _native_multi_head_attention) with their own rounding; float64 stays within the parity tolerance.
    torch.manual_seed(0)
    x = torch.randn(3, 5, 8, dtype=torch.float64)
    mask = torch.tensor([[False] * 5, [False] * 4 + [True], [False] * 3 + [True] * 2]) if padding else None
    ref, mod = loaded(lambda nn: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True))
    with torch.no_grad():
        expected = ref(x, src_key_padding_mask=mask)
    assert_close(mod.forward(x, src_key_padding_mask=mask), expected, **F64)

    ref, mod = loaded(lambda nn: nn.MultiheadAttention(8, 2, batch_first=True))
    with torch.no_grad():
        out, weights = ref(x, x, x, key_padding_mask=mask)
    ours, our_weights = mod.forward(x, x, x, key_padding_mask=mask)
    assert_close(ours, out, **F64)
    assert_close(our_weights, weights, **F64)


def test_encoder_nested_tensor_path_differs_only_at_padded_positions():
    # torch's eval/no_grad encoder with a padding mask runs on nested tensors and returns 0 where the
    # sequence is padded; enable_nested_tensor has no effect in mininet, which computes those rows too
    torch.manual_seed(0)
    x = torch.randn(2, 4, 8, dtype=torch.float64)
    padding = torch.tensor([[False] * 4, [False, False, True, True]])
    ref, mod = loaded(lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2))
    with torch.no_grad():
        expected = ref(x, src_key_padding_mask=padding)
    ours = mod.forward(x, src_key_padding_mask=padding)
    kept = ~padding
    assert_close(ours[kept], expected[kept], **F64)
    assert not expected[padding].any() and ours[padding].abs().sum() > 0


def test_backward_of_attention_without_weights_gradient():
    # grad_attn_weights is optional (None: the weights did not reach the loss), as with need_weights=False
    torch.manual_seed(0)
    ref, mod = loaded(lambda nn: nn.MultiheadAttention(8, 2))
    ref.train(), mod.train()
    q, kv = torch.randn(3, 2, 8, dtype=torch.float64), torch.randn(4, 2, 8, dtype=torch.float64)
    leaves = [t.clone().requires_grad_() for t in (q, kv)]
    out, _ = ref(leaves[0], leaves[1], leaves[1])
    g = torch.randn_like(out)
    out.backward(g)
    mod.forward(q, kv, kv)
    grad_q, grad_k, grad_v = mod.backward(g)
    assert_close(grad_q, leaves[0].grad, **F64)
    assert_close(grad_k + grad_v, leaves[1].grad, **F64)
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        mininet.MultiheadAttention(8, 2).backward(g)


def test_backward_of_attention_with_only_the_weights_gradient():
    # grad_attn_output may be None too (the multi-tensor convention: an output off the loss is zero)
    torch.manual_seed(0)
    ref, mod = loaded(lambda nn: nn.MultiheadAttention(8, 2, batch_first=True))
    q, k, v = (torch.randn(2, length, 8, dtype=torch.float64) for length in (3, 4, 4))
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    _, weights = ref(*leaves)
    gw = torch.randn_like(weights)
    weights.backward(gw)
    mod.forward(q, k, v)
    grad_q, grad_k, grad_v = mod.backward(None, gw)
    assert_close(grad_q, leaves[0].grad, **F64)
    assert_close(grad_k, leaves[1].grad, **F64)
    assert leaves[2].grad is None and not grad_v.any()  # the weights do not depend on the values
    assert_close(mod.in_proj_weight.grad, ref.in_proj_weight.grad, **F64)
    assert not mod.out_proj.weight.grad.any()


def test_attention_backward_hooks_see_every_gradient():
    # multi_tensor: grad_output holds one gradient per output (attn_output, attn_weights), grad_input
    # one per input (query, key, value), as torch's hooks do
    torch.manual_seed(0)
    mha = mininet.MultiheadAttention(4, 2).double()
    seen = []
    mha.register_full_backward_pre_hook(lambda m, grad_output: seen.append(("pre", len(grad_output))))
    mha.register_full_backward_hook(lambda m, grad_input, grad_output: seen.append(
        ("post", len(grad_input), len(grad_output), grad_output[1] is None)))
    x = torch.randn(3, 2, 4, dtype=torch.float64)
    out, _ = mha(x, x, x)
    assert len(mha.backward(torch.ones_like(out))) == 3
    assert seen == [("pre", 2), ("post", 3, 2, True)]


def test_errors_are_torchs():
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        mininet.MultiheadAttention(0, 2)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        mininet.MultiheadAttention(6, 4)
    mha = mininet.MultiheadAttention(4, 2)
    x = torch.randn(3, 2, 4)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha.forward(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask are supported"):
        mha.forward(x, x, x, attn_mask=torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is .*, but should be \(3, 3\)"):
        mha.forward(x, x, x, attn_mask=torch.zeros(3, 4, dtype=torch.bool))
    with pytest.raises(RuntimeError, match=r"The shape of the 3D attn_mask is .*, but should be \(4, 3, 3\)"):
        mha.forward(x, x, x, attn_mask=torch.zeros(2, 3, 3, dtype=torch.bool))
    with pytest.raises(AssertionError, match=r"expected `key` and `value` to be 3-D"):
        mha.forward(x, x[0], x[0])
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 4, but got 5"):
        mha.forward(torch.randn(3, 2, 5), x, x)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        mha.forward(x, x, x, torch.zeros(2, 3, dtype=torch.bool), True, torch.zeros(3, 3))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        mininet.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(TypeError, match="activation must be"):
        mininet.TransformerEncoderLayer(4, 2, activation=torch.tanh)
    with pytest.raises(NotImplementedError, match="replicate"):
        mininet.MultiheadAttention(4, 2).replicate(2).forward(x, x, x)


@pytest.mark.parametrize("activation, expected", [("relu", 1), (F.relu, 1), ("gelu", 2), (F.gelu, 2)])
def test_activation_names_and_functions_as_torch(activation, expected):
    layer = mininet.TransformerEncoderLayer(4, 2, 8, activation=activation)
    assert layer.activation_relu_or_gelu == torch.nn.TransformerEncoderLayer(4, 2, 8, activation=activation
                                                                              ).activation_relu_or_gelu == expected
    assert "activation" not in dict(layer.named_children())  # torch keeps a function there, not a module


@pytest.mark.parametrize("build", [lambda: mininet.MultiheadAttention(4, 2),
                                   lambda: mininet.TransformerEncoderLayer(4, 2, 8, activation="gelu"),
                                   lambda: mininet.TransformerEncoder(mininet.TransformerEncoderLayer(4, 2, 8), 2)],
                         ids=["MHA", "layer", "encoder"])
def test_free_saved_drops_the_activations(build):
    module = build()
    x = torch.randn(3, 2, 4)
    out = module.forward(x, x, x) if isinstance(module, mininet.MultiheadAttention) else module(x)
    module.free_saved()
    kept = [m for m in module.modules() if any(isinstance(v, torch.Tensor) or isinstance(v, tuple) and any(
        isinstance(t, torch.Tensor) for t in v) for k, v in vars(m).items() if k.startswith("_saved"))]
    assert not kept
    if isinstance(module, mininet.TransformerEncoderLayer):  # the activation made from its name too
        assert module.activation._saved is None
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        module.backward(torch.ones_like(out[0] if isinstance(out, tuple) else out))
