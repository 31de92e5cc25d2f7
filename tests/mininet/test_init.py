"""mininet.init and Linear's default initialisation draw exactly torch.nn.init's numbers."""

from __future__ import annotations

import math

import pytest
import torch

import mininet
from mininet import init

LINEAR_SHAPES = [(1, 1), (3, 5), (10, 4), (64, 128), (7, 33)]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("in_features,out_features", LINEAR_SHAPES)
def test_linear_default_init_is_torchs(in_features, out_features, bias):
    seed = 1000 * in_features + out_features
    torch.manual_seed(seed)
    mn = mininet.Linear(in_features, out_features, bias=bias)
    mn_rng = torch.get_rng_state()
    torch.manual_seed(seed)
    ref = torch.nn.Linear(in_features, out_features, bias=bias)
    assert torch.equal(torch.get_rng_state(), mn_rng)  # the same number of draws
    assert mn.weight.dtype == torch.float32 and mn.weight.shape == ref.weight.shape
    assert torch.equal(mn.weight.data, ref.weight.detach())
    if bias:
        assert torch.equal(mn.bias.data, ref.bias.detach())
    else:
        assert mn.bias is None and ref.bias is None


@pytest.mark.parametrize("args, kwargs", [
    ((3, 4, 3), {}), ((4, 6, (2, 3)), {"groups": 2, "bias": False}), ((1, 8, 5), {"stride": 2, "padding": 2}),
], ids=["3x3", "grouped-rect-nobias", "5x5"])
def test_conv2d_default_init_is_torchs(args, kwargs):
    torch.manual_seed(7)
    mn = mininet.Conv2d(*args, **kwargs)
    mn_rng = torch.get_rng_state()
    torch.manual_seed(7)
    ref = torch.nn.Conv2d(*args, **kwargs)
    assert torch.equal(torch.get_rng_state(), mn_rng)  # the same number of draws
    for key, value in ref.state_dict().items():
        assert torch.equal(mn.state_dict()[key], value), key


def test_linear_init_depends_on_the_seed():
    torch.manual_seed(0)
    a = mininet.Linear(4, 3)
    torch.manual_seed(1)
    b = mininet.Linear(4, 3)
    assert not torch.equal(a.weight.data, b.weight.data)


GAINS = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
         ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
         ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 3),
         ("leaky_relu", math.sqrt(5)), ("selu", None)]


@pytest.mark.parametrize("nonlinearity,param", GAINS)
def test_calculate_gain_table(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("nonlinearity,param", [("softmax", None), ("leaky_relu", True), ("leaky_relu", "0.1")])
def test_calculate_gain_rejects_what_torch_rejects(nonlinearity, param):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError):
        init.calculate_gain(nonlinearity, param)


SHAPES = [(3, 5), (8, 2), (6, 4, 3), (2, 3, 2, 2), (129, 7)]
# (name, kwargs): every random init function with a spread of its options.
DRAWS = [
    ("uniform_", {}), ("uniform_", dict(a=-2.0, b=0.5)),
    ("normal_", {}), ("normal_", dict(mean=1.5, std=0.1)),
    ("xavier_uniform_", {}), ("xavier_uniform_", dict(gain=init.calculate_gain("tanh"))),
    ("xavier_normal_", {}), ("xavier_normal_", dict(gain=math.sqrt(2.0))),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", dict(a=math.sqrt(5))),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_uniform_", dict(a=0.2, mode="fan_in", nonlinearity="leaky_relu")),
    ("kaiming_uniform_", dict(mode="FAN_OUT", nonlinearity="tanh")),
    ("kaiming_normal_", {}), ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_", dict(a=0.1, mode="fan_in")), ("kaiming_normal_", dict(nonlinearity="selu")),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="linear")),
]
DRAW_IDS = [f"{name}-" + (",".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                    for k, v in kw.items()) or "defaults") for name, kw in DRAWS]


@pytest.mark.parametrize("use_generator", [False, True], ids=["global_rng", "generator"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name,kwargs", DRAWS, ids=DRAW_IDS)
def test_random_init_draws_torchs_numbers(name, kwargs, shape, use_generator):
    seed = 17 + len(shape)

    def draw(fn):
        t = torch.empty(shape)
        if use_generator:
            fn(t, **kwargs, generator=torch.Generator().manual_seed(seed))
        else:
            torch.manual_seed(seed)
            fn(t, **kwargs)
        return t

    mine = draw(getattr(init, name))
    ref = draw(getattr(torch.nn.init, name))
    assert mine.dtype == torch.float32
    assert torch.equal(mine, ref)
    assert mine.std() > 0  # it really drew something


def test_generator_is_used_and_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    before = torch.get_rng_state()
    a = init.kaiming_uniform_(torch.empty(4, 4), generator=torch.Generator().manual_seed(1))
    assert torch.equal(torch.get_rng_state(), before)
    b = init.kaiming_uniform_(torch.empty(4, 4), generator=torch.Generator().manual_seed(2))
    assert not torch.equal(a, b)


@pytest.mark.parametrize("name,args", [("zeros_", ()), ("ones_", ()), ("constant_", (0.25,))])
def test_fills_match_torch(name, args):
    mine = getattr(init, name)(torch.randn(3, 4), *args)
    ref = getattr(torch.nn.init, name)(torch.randn(3, 4), *args)
    assert torch.equal(mine, ref)


def test_init_functions_work_on_tensors_that_require_grad():
    w = torch.empty(3, 4, requires_grad=True)
    out = init.xavier_normal_(w)
    assert out is w and w.requires_grad and w.grad_fn is None


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"])
def test_fan_functions_reject_1d_tensors_like_torch(name):
    with pytest.raises(ValueError):
        getattr(torch.nn.init, name)(torch.empty(5))
    with pytest.raises(ValueError):
        getattr(init, name)(torch.empty(5))


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_rejects_unknown_mode(name):
    with pytest.raises(ValueError):
        getattr(init, name)(torch.empty(3, 3), mode="fan_avg")


@pytest.mark.parametrize("name, args, kwargs", [
    ("Embedding", (9, 5), {}), ("Embedding", (9, 5), {"padding_idx": -3}),
    ("RNN", (3, 5), {"num_layers": 2, "bidirectional": True, "nonlinearity": "relu"}),
    ("RNN", (3, 5), {"bias": False}),
    ("LSTM", (3, 5), {"num_layers": 3, "proj_size": 2, "bidirectional": True}),
    ("LSTM", (3, 5, 2), {"bias": False, "batch_first": True}),
    ("GRU", (3, 5), {"num_layers": 2, "dropout": 0.2}),
    ("RNNCell", (3, 5), {}), ("LSTMCell", (3, 5), {"bias": False}), ("GRUCell", (3, 5), {}),
], ids=lambda v: str(v) if not isinstance(v, dict) else "-".join(f"{k}={x}" for k, x in v.items()) or "defaults")
def test_sequence_layers_draw_torchs_initial_parameters(name, args, kwargs):
    # U(-1/sqrt(hidden), 1/sqrt(hidden)) for every parameter in registration order (Embedding: N(0, 1),
    # padding row zeroed): the same numbers, names, order, and the same number of draws
    torch.manual_seed(7)
    mn = getattr(mininet, name)(*args, **kwargs)
    mn_rng = torch.get_rng_state()
    torch.manual_seed(7)
    ref = getattr(torch.nn, name)(*args, **kwargs)
    assert torch.equal(torch.get_rng_state(), mn_rng)
    assert [k for k, _ in mn.named_parameters()] == [k for k, _ in ref.named_parameters()]
    assert list(mn.state_dict()) == list(ref.state_dict())
    for key, value in ref.state_dict().items():
        assert torch.equal(mn.state_dict()[key], value), key
    assert repr(mn) == repr(ref)
