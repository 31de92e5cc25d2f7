"""The torch.nn bookkeeping API of mininet modules: state_dict, gradients, modes, dtypes, repr, errors."""

from __future__ import annotations

import inspect
import itertools
import re

import pytest
import torch
from torch.testing import assert_close

import mininet
from mininet_cases import (FORWARD_SEED, LAYER_CASES, LOSS_CASES, LossCase, build_mininet, case_inputs, clone_inputs,
                           layer_params, loss_params, seeded)


def mlp(nn):
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))


def test_state_dict_keys_order_and_shapes_equal_torch():
    mine, ref = mlp(mininet).state_dict(), mlp(torch.nn).state_dict()
    assert list(mine) == list(ref) == [
        "0.weight", "0.bias",
        "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "4.weight", "4.bias"]
    for key in ref:
        assert mine[key].shape == ref[key].shape, key
        assert mine[key].dtype == ref[key].dtype, key


def test_state_dict_loads_both_ways():
    torch.manual_seed(0)
    ref = mlp(torch.nn)
    ref(torch.randn(16, 4))  # non-trivial running statistics and num_batches_tracked
    mine = mlp(mininet)
    mine.load_state_dict(ref.state_dict())
    for key, value in ref.state_dict().items():
        assert torch.equal(mine.state_dict()[key], value), key

    mine(torch.randn(16, 4))
    back = mlp(torch.nn)
    back.load_state_dict(mine.state_dict())
    for key, value in mine.state_dict().items():
        assert torch.equal(back.state_dict()[key], value), key
    assert int(back.state_dict()["1.num_batches_tracked"]) == 2


def test_backward_accumulates_until_zero_grad():
    torch.manual_seed(0)
    model = mlp(mininet)
    x, g = torch.randn(8, 4), torch.randn(8, 2)
    torch.manual_seed(1)
    model(x)
    model.backward(g)
    first = {name: p.grad.clone() for name, p in model.named_parameters()}
    torch.manual_seed(1)
    model(x)
    model.backward(g)
    for name, p in model.named_parameters():
        assert_close(p.grad, 2 * first[name])

    model.zero_grad(set_to_none=False)
    assert all(torch.count_nonzero(p.grad) == 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_switch_every_submodule():
    torch.manual_seed(0)
    model = mlp(mininet)
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    stats = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(8, 4)
    y1, y2 = model(x), model(x)
    assert torch.equal(y1, y2)  # eval: no dropout, running statistics
    for key, value in model.state_dict().items():
        assert torch.equal(value, stats[key]), f"{key} changed in eval mode"

    model.train()
    assert all(m.training for m in model.modules())
    model(x)
    assert int(model[1].num_batches_tracked) == 1


def test_to_float64_casts_parameters_and_float_buffers_only():
    model = mlp(mininet).to(torch.float64)
    for key, value in model.state_dict().items():
        expected = torch.long if key.endswith("num_batches_tracked") else torch.float64
        assert value.dtype == expected, key
    assert model(torch.randn(5, 4, dtype=torch.float64)).dtype == torch.float64


@pytest.fixture
def default_float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.usefixtures("default_float64")
def test_modules_create_tensors_in_the_default_dtype():
    model = mlp(mininet)
    for key, value in model.state_dict().items():
        expected = torch.long if key.endswith("num_batches_tracked") else torch.float64
        assert value.dtype == expected, key
    ref = mlp(torch.nn)
    assert [v.dtype for v in model.state_dict().values()] == [v.dtype for v in ref.state_dict().values()]


def test_repr_reads_like_torch():
    def model(nn):
        return nn.Sequential(
            nn.Linear(4, 8), nn.BatchNorm1d(8), nn.LeakyReLU(), nn.LeakyReLU(0.2, inplace=True),
            nn.Dropout(0.25), nn.ELU(alpha=0.5), nn.GELU(approximate="tanh"), nn.Softplus(beta=2.0, threshold=10.0),
            nn.SiLU(inplace=True), nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.Identity(),
            nn.BatchNorm1d(8, momentum=None, affine=False, track_running_stats=False),
            nn.LayerNorm(8), nn.LayerNorm((8,), eps=1e-3, bias=False), nn.LayerNorm(8, elementwise_affine=False),
            nn.Softmax(dim=1), nn.LogSoftmax(dim=-1), nn.Linear(8, 2, bias=False))

    assert repr(model(mininet)) == repr(model(torch.nn))


@pytest.mark.parametrize("case", loss_params())
def test_loss_repr_reads_like_torch(case):
    assert repr(case.build(mininet)) == repr(case.build(torch.nn))


def test_linear_wrong_input_width_names_module_and_both_sizes():
    with pytest.raises(ValueError, match=r"Linear\(in_features=4, out_features=8\).*5 features.*expected 4"):
        mininet.Linear(4, 8)(torch.randn(3, 5))


def test_batchnorm_wrong_input_is_explained():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(8\).*5 channels.*expected 8"):
        mininet.BatchNorm1d(8)(torch.randn(4, 5))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C\) or \(N, C, L\), got 4D"):
        mininet.BatchNorm1d(8)(torch.randn(2, 8, 3, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        mininet.BatchNorm1d(8)(torch.randn(1, 8))
    mininet.BatchNorm1d(8).eval()(torch.randn(1, 8))  # running statistics: one sample is fine
    with pytest.raises(ValueError, match="more than 1 value per channel"):  # batch statistics, as torch
        mininet.BatchNorm1d(8, track_running_stats=False).eval()(torch.randn(1, 8))
    mininet.BatchNorm1d(8)(torch.randn(0, 8))  # no sample at all: an empty output, as torch


def test_layernorm_wrong_input_is_explained():
    with pytest.raises(ValueError, match=r"LayerNorm\(\(8,\)\): expected input of shape \(\*, 8\), got \(4, 5\)"):
        mininet.LayerNorm(8)(torch.randn(4, 5))
    with pytest.raises(ValueError, match=r"expected input of shape \(\*, 3, 4\), got \(4,\)"):
        mininet.LayerNorm((3, 4))(torch.randn(4))
    with pytest.raises(ValueError, match=r"expected input of shape \(2, \*, 8\), got \(3, 5, 8\)"):
        mininet.LayerNorm(8).replicate(2)(torch.randn(3, 5, 8))
    mininet.LayerNorm(8)(torch.randn(8))  # one sample, no batch dimension: as torch


@pytest.mark.parametrize("case", layer_params([c for c in LAYER_CASES if c.id != "Identity"])
                         + loss_params(LOSS_CASES))
def test_backward_before_forward_says_so(case):
    module = case.build(mininet)
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        module.backward(torch.ones(case.shape))


def test_cross_entropy_target_errors():
    crit = mininet.CrossEntropyLoss()
    x = torch.randn(4, 3)
    with pytest.raises(TypeError, match=r"must be int64 \(torch.long\), got torch.float32"):
        crit(x, torch.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(TypeError, match=r"must be int64 \(torch.long\), got torch.int32"):
        crit(x, torch.tensor([0, 1, 2, 0], dtype=torch.int32))
    with pytest.raises(ValueError, match=r"outside \[0, 3\) \(min 0, max 3\)"):
        crit(x, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"outside \[0, 3\) \(min -1, max 2\)"):
        mininet.CrossEntropyLoss(weight=torch.ones(3), label_smoothing=0.1)(x, torch.tensor([0, 1, 2, -1]))
    with pytest.raises(ValueError, match=r"target of shape \(5,\) does not fit input of shape \(4, 3\); expected "
                                         r".*\(N, C, d1, \.\.\., dK\) with \(N, d1, \.\.\., dK\), "
                                         r"the classes in dimension 1"):
        crit(x, torch.tensor([0, 1, 2, 0, 1]))
    # torch's layout: the classes in dimension 1, so (N, C, d) takes (N, d), not (N, C)
    with pytest.raises(ValueError, match=r"target of shape \(4, 3\) does not fit input of shape \(4, 3, 5\)"):
        crit(torch.randn(4, 3, 5), torch.zeros(4, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="2 class weights for input with 3 classes"):
        mininet.CrossEntropyLoss(weight=torch.ones(2))(x, torch.tensor([0, 1, 1, 0]))
    with pytest.raises(ValueError, match="2 class weights for input with 3 classes"):
        mininet.CrossEntropyLoss(weight=torch.ones(2))(torch.randn(4, 3, 5), torch.softmax(torch.randn(4, 3, 5), 1))
    # ignored rows are not errors, and are left out of the range the message reports
    with pytest.raises(ValueError, match=r"outside \[0, 3\) \(min 0, max 5\) .* ignore_index=-100"):
        crit(x, torch.tensor([0, -100, 5, 1]))
    with pytest.raises(ValueError, match=r"outside \[0, 3\) \(min -100, max 2\) .* ignore_index=1"):
        mininet.CrossEntropyLoss(ignore_index=1)(x, torch.tensor([0, -100, 2, 1]))
    with pytest.raises(ValueError, match=r"ignore_index=0 is not supported with class-probability"):
        mininet.CrossEntropyLoss(ignore_index=0)(x, torch.softmax(x, -1))


def test_nll_target_errors():
    crit, x = mininet.NLLLoss(), torch.randn(4, 3)
    with pytest.raises(TypeError, match=r"int64 \(torch.long\) class indices, got torch.float32"):
        crit(x, torch.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match=r"outside \[0, 3\) \(min 0, max 3\)"):
        crit(x, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"target of shape \(5,\) does not fit input of shape \(4, 3\)"):
        crit(x, torch.tensor([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match="2 class weights for input with 3 classes"):
        mininet.NLLLoss(weight=torch.ones(2))(x, torch.tensor([0, 1, 1, 0]))


@pytest.mark.parametrize("loss", ["CrossEntropyLoss", "NLLLoss"])
def test_replicated_classification_loss_says_which_layout_it_takes(loss):
    # replicated: (R, N, C), classes last; torch's K-dimensional (N, C, d1, ...) is not a replicated layout
    crit = getattr(mininet, loss)().replicate(2)
    with pytest.raises(ValueError, match=r"input of shape \(2, 4, 3, 5\); expected 2 replicas: input \(R, N, C\) "
                                         r"with target \(R, N\), the classes last"):
        crit(torch.randn(2, 4, 3, 5), torch.zeros(2, 4, 5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"target of shape \(2, 3\) does not fit input of shape \(2, 4, 3\); "
                                         r"expected 2 replicas: input \(R, N, C\)"):
        crit(torch.randn(2, 4, 3), torch.zeros(2, 3, dtype=torch.long))


def test_softmax_without_dim_warns_and_picks_torchs_dimension():
    x = torch.randn(2, 3, 4)
    for name in ("Softmax", "LogSoftmax"):
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            ours = getattr(mininet, name)()(x)
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            ref = getattr(torch.nn, name)()(x)
        assert torch.equal(ours, ref)  # dim 0 for 3-D input, as torch's legacy rule


@pytest.mark.parametrize("make, target", [
    (lambda: mininet.MSELoss(reduction="none"), lambda x: torch.zeros_like(x)),
    (lambda: mininet.CrossEntropyLoss(reduction="none"), lambda x: torch.tensor([0, 1, 2, 0])),
], ids=["MSE", "CE"])
def test_unreduced_loss_backward_needs_a_loss_shaped_grad_output(make, target):
    crit, x = make(), torch.randn(4, 3)
    loss = crit(x, target(x))
    for bad in (None, 1.0, torch.ones(()), torch.ones(3)):
        with pytest.raises(ValueError, match=re.escape(f"must be a tensor of the loss's shape {tuple(loss.shape)}")):
            crit.backward(bad)
    assert crit.backward(torch.ones_like(loss)).shape == x.shape


@pytest.mark.parametrize("make", [
    lambda: mininet.Dropout(1.5), lambda: mininet.GELU(approximate="fast"),
    lambda: mininet.CrossEntropyLoss(label_smoothing=1.2), lambda: mininet.HuberLoss(delta=0.0),
    lambda: mininet.L1Loss(reduction="elementwise"), lambda: mininet.BCEWithLogitsLoss(reduction="avg"),
], ids=["Dropout-p", "GELU-approximate", "CE-label_smoothing", "Huber-delta", "L1-reduction", "BCE-reduction"])
def test_invalid_constructor_arguments_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_inplace_leaky_relu_with_negative_slope_refuses_backward():
    act = mininet.LeakyReLU(-0.5, inplace=True)
    act(torch.randn(3, 4))
    with pytest.raises(RuntimeError, match="negative slope"):
        act.backward(torch.ones(3, 4))


@pytest.mark.parametrize("build", [
    lambda nn: nn.BatchNorm1d(4), lambda nn: nn.BatchNorm1d(4, affine=False), lambda nn: nn.LayerNorm(4),
    lambda nn: nn.LayerNorm(4, bias=False),
], ids=["BatchNorm1d", "BatchNorm1d-noaffine", "LayerNorm", "LayerNorm-nobias"])
def test_reset_parameters_restores_torchs_initial_state(build):
    ref, ours = build(torch.nn), build(mininet)
    with torch.no_grad():
        for t in ref.state_dict().values():
            t.fill_(3)
    ours.load_state_dict(ref.state_dict())
    ref.reset_parameters()
    ours.reset_parameters()
    for key, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key


def test_load_state_dict_reports_and_returns_like_torch():
    torch.manual_seed(0)
    ref, ours = torch.nn.Linear(2, 3), mininet.Linear(2, 3)
    full = ref.state_dict()
    assert repr(ours.load_state_dict(full)) == repr(ref.load_state_dict(full)) == "<All keys matched successfully>"
    partial = {"weight": torch.ones(3, 2), "extra": torch.zeros(1)}
    got, expected = ours.load_state_dict(partial, strict=False), ref.load_state_dict(partial, strict=False)
    assert (got.missing_keys, got.unexpected_keys) == (expected.missing_keys, expected.unexpected_keys)
    assert got == (["bias"], ["extra"]) and torch.equal(ours.weight.data, torch.ones(3, 2))
    before = ours.state_dict()["weight"].clone()
    bad = {"weight": torch.zeros(2, 2), "extra": torch.zeros(1)}
    for module in (ours, ref):
        with pytest.raises(RuntimeError) as info:
            module.load_state_dict(bad)
        message = str(info.value)
        assert message.startswith("Error(s) in loading state_dict for Linear:")
        for part in ('Unexpected key(s) in state_dict: "extra"', 'Missing key(s) in state_dict: "bias"',
                     "size mismatch for weight"):
            assert part in message, (type(module), part)
    assert torch.equal(ours.weight.data, before)  # nothing copied when anything is wrong
    with pytest.raises(RuntimeError, match=r"size mismatch for weight.*\(2, 2\).*\(3, 2\)"):
        ours.load_state_dict({"weight": torch.zeros(2, 2)}, strict=False)  # shapes are checked even so


def test_registration_rules_match_torch():
    for nn in (torch.nn, mininet):
        m = nn.Linear(2, 3)
        with pytest.raises(TypeError):
            m.weight = torch.zeros(3, 2)  # a parameter slot takes a Parameter or None
        m.bias = None
        assert "bias" not in m.state_dict()
        m.register_buffer("scratch", torch.zeros(1), persistent=False)
        m.register_buffer("count", torch.zeros(1))
        with pytest.raises(TypeError):
            m.count = "three"
        m.add_module("head", None)
        assert list(m.state_dict()) == ["weight", "count"], nn.__name__
        assert [name for name, _ in m.named_buffers()] == ["scratch", "count"], nn.__name__
        assert m.float().weight.dtype == torch.float32 and m.count.dtype == torch.float32


def test_a_module_without_forward_or_backward_says_so():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        mininet.Module()(torch.zeros(1))
    with pytest.raises(NotImplementedError, match="Module has no backward"):
        mininet.Module().backward(torch.zeros(1))


def test_replicate_once_and_show_it():
    model = mininet.Sequential(mininet.Linear(2, 3), mininet.ReLU()).replicate(4)
    assert "Linear(in_features=2, out_features=3, bias=True, replicas=4)" in repr(model)
    assert "ReLU(replicas=4)" in repr(model)
    with pytest.raises(RuntimeError, match="already replicated \\(4 replicas\\)"):
        model.replicate(2)
    with pytest.raises(ValueError, match="needs n >= 1, got 0"):
        mininet.Linear(2, 3).replicate(0)


@pytest.mark.parametrize("build", [lambda nn: nn.Conv2d(3, 4, 3, padding=1), lambda nn: nn.MaxPool2d(2)],
                         ids=["Conv2d", "MaxPool2d"])
@pytest.mark.parametrize("make_input", [
    lambda: torch.randn(3, 6, 6, dtype=torch.float64),  # one image, no batch dimension
    lambda: torch.randn(6, 6, 3, 5, dtype=torch.float64).permute(3, 2, 0, 1),  # (5, 3, 6, 6), channels last
], ids=["unbatched", "non-contiguous"])
def test_conv_and_pool_take_inputs_as_torch_does(build, make_input):
    torch.manual_seed(0)
    ref, ours = build(torch.nn).double(), build(mininet).double()
    ours.load_state_dict(ref.state_dict())
    x = make_input()
    x_ref = x.clone().requires_grad_()
    y = ref(x_ref)
    g = torch.randn(y.shape, dtype=torch.float64)
    y.backward(g)
    torch.testing.assert_close(ours(x), y.detach())
    torch.testing.assert_close(ours.backward(g), x_ref.grad)
    for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=lambda m, n=name: f"{n}: {m}")


def test_conv_arguments_and_inputs_are_checked():
    with pytest.raises(ValueError, match=r"must be divisible by groups \(2\)"):
        mininet.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"padding_mode must be one of \('zeros', 'reflect', 'replicate', "
                                         r"'circular'\), got 'mirror'"):
        mininet.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="not supported for strided convolutions"):
        mininet.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Conv2d\(3, 4\): expected input of shape \(N, 3, H, W\), got \(2, 5, 6, 6\)"):
        mininet.Conv2d(3, 4, 3)(torch.randn(2, 5, 6, 6))
    with pytest.raises(ValueError, match=r"expected input of shape \(2, N, 3, H, W\), got \(2, 3, 6, 6\)"):
        mininet.Conv2d(3, 4, 3).replicate(2)(torch.randn(2, 3, 6, 6))
    for padding in ("valid", "same", 1, (2, 0)):
        assert repr(mininet.Conv2d(3, 4, 3, padding=padding)) == repr(torch.nn.Conv2d(3, 4, 3, padding=padding))
    for mode in ("reflect", "circular"):
        assert repr(mininet.Conv2d(3, 4, 3, padding=1, padding_mode=mode)) == repr(
            torch.nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode))



def test_avg_pool_divides_as_torch_over_every_small_setting():
    # the divisor of each window (padding counted or not, windows past the edge in ceil mode, an
    # override) decides both the output and the gradient
    torch.manual_seed(0)
    checked = 0
    for size, k, s, p, ceil, with_pad, divisor in itertools.product(
            (5, 6, 7), (2, 3), (1, 2, 3), (0, 1), (False, True), (True, False), (None, 3)):
        if p > k // 2:
            continue  # torch refuses padding over half the kernel
        ref = torch.nn.AvgPool2d(k, s, p, ceil, with_pad, divisor)
        ours = mininet.AvgPool2d(k, s, p, ceil, with_pad, divisor)
        x = torch.randn(2, 3, size, size + 1, dtype=torch.float64)
        x_ref = x.clone().requires_grad_()
        y = ref(x_ref)
        g = torch.randn(y.shape, dtype=torch.float64)
        y.backward(g)
        settings = (size, k, s, p, ceil, with_pad, divisor)
        torch.testing.assert_close(ours(x), y.detach(), msg=lambda m: f"{settings}: {m}")
        torch.testing.assert_close(ours.backward(g), x_ref.grad, msg=lambda m: f"{settings}: {m}")
        checked += 1
    assert checked == 288


@pytest.mark.parametrize("pool", [mininet.MaxPool2d(2), mininet.AvgPool2d(2)], ids=["MaxPool2d", "AvgPool2d"])
def test_pooling_inputs_are_checked(pool):
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C, H, W\) or \(C, H, W\), got \(4, 4\)"):
        pool(torch.randn(4, 4))
    pool.replicate(3)
    with pytest.raises(ValueError, match=r"expected input of shape \(3, N, C, H, W\), got \(3, 2, 4, 4\)"):
        pool(torch.randn(3, 2, 4, 4))  # the samples' dimension is missing


@pytest.mark.parametrize("case", layer_params() + loss_params())
def test_forward_takes_torchs_keyword_arguments(case):
    # module(input=x), criterion(input=x, target=t): the names of torch's forward parameters
    torch.manual_seed(0)
    if isinstance(case, LossCase):
        args = (case.scale * torch.randn(case.shape, dtype=torch.float64), case.target(case.shape, torch.float64))
    else:
        args = case_inputs(case, torch.float64)  # indices for Embedding, (input, hx) for recurrent layers
    names = list(inspect.signature(case.build(torch.nn).forward).parameters)
    module = build_mininet(case)
    by_position = seeded(module, *clone_inputs(args))
    torch.manual_seed(FORWARD_SEED)
    by_name = module(**dict(zip(names, clone_inputs(args))))
    assert_close(by_name, by_position, rtol=0, atol=0, equal_nan=True)


def test_forward_hooks_see_keyword_calls():
    # as torch's hooks registered without with_kwargs: the positional arguments only, the output in full
    seen = []
    layer = mininet.Linear(3, 2)
    layer.register_forward_hook(lambda m, args, out: seen.append((args, out.shape)))
    layer(input=torch.randn(4, 3))
    assert seen == [((), (4, 2))]
