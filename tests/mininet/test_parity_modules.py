"""Every layer and loss against torch.nn: same state, same input -> same output and gradients.

torch computes its gradients with autograd; mininet with its hand-written backward. float64 must agree
to rounding (rtol 1e-10, atol 1e-12); float32 within torch's default float32 tolerances.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

import mininet
from mininet_cases import (FORWARD_SEED, LOSS_CASES, build_pair, call_params, case_inputs, clone_inputs, flatten,
                           grads_as_list, layer_params, loss_params, loss_seed, seeded)

TOLERANCES = {torch.float64: {"rtol": 1e-10, "atol": 1e-12}, torch.float32: {}}
DTYPES = [pytest.param(torch.float64, id="f64"), pytest.param(torch.float32, id="f32")]


def assert_same_state(actual, expected, **tol):
    assert list(actual) == list(expected)
    for key in expected:
        assert actual[key].dtype == expected[key].dtype, key
        assert_close(actual[key], expected[key], **tol, msg=lambda m, k=key: f"{k}: {m}")


def assert_same_parameter_grads(mod, ref, **tol):
    ref_params = dict(ref.named_parameters())
    mod_params = dict(mod.named_parameters())
    assert list(mod_params) == list(ref_params)
    for name, p in mod_params.items():
        assert_close(p.grad, ref_params[name].grad, **tol, msg=lambda m, n=name: f"grad of {n}: {m}")
        assert p.grad.is_contiguous(), f"grad of {name} is not contiguous, unlike torch's"  # .view() works


def assert_same_outputs_then_backward(mod, y, y_ref, dtype, **tol):
    """Compare every output (None where torch's is None), then run both backward passes with one random
    gradient per output (the multi-tensor convention; autograd's objective sums them). mininet's
    backward result is returned."""
    outputs, outputs_ref = flatten(y), flatten(y_ref)
    assert len(outputs) == len(outputs_ref)
    for out, out_ref in zip(outputs, outputs_ref):
        assert (out is None) == (out_ref is None)
        if out is not None:
            assert_close(out, out_ref.detach(), **tol)
    gs = [None if out is None else torch.randn(out.shape, dtype=dtype) for out in outputs]
    torch.autograd.backward([o for o, g in zip(outputs_ref, gs) if g is not None], [g for g in gs if g is not None])
    mod.zero_grad()
    return mod.backward(*gs) if isinstance(y, tuple) else mod.backward(gs[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", layer_params())
def test_layer_matches_torch(case, dtype):
    tol = TOLERANCES[dtype]
    torch.manual_seed(0)
    ref, mod = build_pair(case, dtype)
    # The other direction: a torch module loads mininet's state_dict and holds the same state.
    back = case.build(torch.nn).to(dtype)
    back.load_state_dict(mod.state_dict())
    assert_same_state(back.state_dict(), ref.state_dict(), rtol=0, atol=0)

    args = case_inputs(case, dtype)
    args_ref = clone_inputs(args, requires_grad=True)
    # clone(): in-place layers must not overwrite a leaf (torch) nor the test's inputs (mininet).
    y_ref = seeded(ref, *clone_inputs(args_ref))
    y = seeded(mod, *clone_inputs(args))
    result = assert_same_outputs_then_backward(mod, y, y_ref, dtype, **tol)
    leaves = flatten(args_ref)
    grads = grads_as_list(result, len(leaves))
    for k, (grad, leaf) in enumerate(zip(grads, leaves)):
        if leaf.is_floating_point():
            assert_close(grad, leaf.grad, **tol, msg=lambda m, k=k: f"grad of input {k}: {m}")
        else:
            assert grad is None  # indices take no gradient
    assert all(g is None for g in grads[len(leaves):])  # a state that was not given
    assert_same_parameter_grads(mod, ref, **tol)
    # Running statistics (and everything else) after the forward.
    assert_same_state(mod.state_dict(), ref.state_dict(), **tol)


def as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", call_params())
def test_call_matches_torch(case, dtype):
    # Several inputs (query, key, value; tied where the case ties them) and keyword arguments (masks).
    # The module is called like torch's, keywords included.
    tol = TOLERANCES[dtype]
    torch.manual_seed(0)
    ref, mod = build_pair(case, dtype)
    inputs = case.inputs(dtype)
    leaves = [x.clone().requires_grad_() for x in inputs]
    kwargs = case.kwargs(dtype)
    torch.manual_seed(FORWARD_SEED)
    expected = ref(*case.args(leaves), **kwargs)
    torch.manual_seed(FORWARD_SEED)
    actual = mod(*case.args(inputs), **kwargs)
    # every output's gradient (the attention weights' too)
    grads = as_tuple(assert_same_outputs_then_backward(mod, actual, expected, dtype, **tol))
    assert len(grads) == len(case.arg_inputs)
    for i, leaf in enumerate(leaves):  # a tensor passed several times gets the sum, as autograd gives
        assert_close(sum(g for g, j in zip(grads, case.arg_inputs) if j == i), leaf.grad, **tol,
                     msg=lambda m, i=i: f"input {i}: {m}")
    assert_same_parameter_grads(mod, ref, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", loss_params())
def test_loss_matches_torch(case, dtype):
    tol = TOLERANCES[dtype]
    torch.manual_seed(0)
    ref, crit = build_pair(case, dtype)
    assert list(crit.state_dict()) == list(ref.state_dict())

    x = case.scale * torch.randn(case.shape, dtype=dtype)
    target = case.target(case.shape, dtype)
    x_ref = x.clone().requires_grad_()
    loss_ref = ref(x_ref, target)
    loss = crit(x, target)
    assert loss.shape == loss_ref.shape and loss.dtype == dtype
    # one loss per sample (and position: (N, d1, ..., dK) of torch's (N, C, d1, ..., dK)) for CE and NLL
    unreduced = x.shape[:1] + x.shape[2:] if case.id.startswith(("CE", "NLL")) else x.shape
    assert loss.shape == (() if crit.reduction != "none" else unreduced)
    assert_close(loss, loss_ref.detach(), **tol, equal_nan=True)

    seed = loss_seed(crit, loss)
    loss_ref.backward(seed)
    assert_close(crit.backward(seed), x_ref.grad, **tol)


SEEDED_LOSSES = ("MSE", "CE", "CE-weight", "NLL-weight", "BCEWithLogits")


@pytest.mark.parametrize("case", loss_params([c for c in LOSS_CASES if c.id in SEEDED_LOSSES]))
def test_loss_backward_scales_by_grad_output(case):
    torch.manual_seed(0)
    ref, crit = build_pair(case, torch.float64)
    x = case.scale * torch.randn(case.shape, dtype=torch.float64)
    target = case.target(case.shape, torch.float64)
    x_ref = x.clone().requires_grad_()
    ref(x_ref, target).backward(torch.tensor(-2.5, dtype=torch.float64))
    crit(x, target)
    assert_close(crit.backward(torch.tensor(-2.5, dtype=torch.float64)), x_ref.grad, rtol=1e-10, atol=1e-12)
    assert_close(crit.backward(-2.5), x_ref.grad, rtol=1e-10, atol=1e-12)


_IGNORED_KWARGS = {
    "mean": {}, "sum": {"reduction": "sum"}, "none": {"reduction": "none"},
    "weight": {"weight": torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64)},
    "smoothing": {"label_smoothing": 0.2},
    "weight-smoothing": {"weight": torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64), "label_smoothing": 0.2},
}


@pytest.mark.parametrize("loss, kwargs", [
    pytest.param(loss, kwargs, id=f"{loss}-{name}") for loss in ("CrossEntropyLoss", "NLLLoss")
    for name, kwargs in _IGNORED_KWARGS.items() if loss == "CrossEntropyLoss" or "label_smoothing" not in kwargs])
def test_every_row_ignored_matches_torch(loss, kwargs):
    # torch: the mean divides 0 by 0 (nan), the sum is 0; either way the gradient is 0
    x = torch.randn(4, 3, dtype=torch.float64)
    target = torch.full((4,), -100)
    x_ref = x.clone().requires_grad_()
    loss_ref = getattr(torch.nn, loss)(**kwargs)(x_ref, target)
    crit = getattr(mininet, loss)(**kwargs)
    loss = crit(x, target)
    assert_close(loss, loss_ref.detach(), equal_nan=True)
    seed = loss_seed(crit, loss)
    loss_ref.backward(seed)
    assert_close(crit.backward(seed), x_ref.grad)
    assert not crit.backward(seed).any()


@pytest.mark.parametrize("replicas", [None, 3], ids=["single", "replicated"])
def test_cross_entropy_hot_path_falls_back_when_a_row_is_ignored(replicas):
    # the same criterion object sees batches without and with ignored rows, in both orders
    crit, ref = mininet.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    if replicas:
        crit.replicate(replicas)
    shape = (replicas, 5, 3) if replicas else (5, 3)
    for ignore in (False, True, False):
        x = torch.randn(shape, dtype=torch.float64)
        target = torch.randint(0, 3, shape[:-1])
        if ignore:
            target[..., 1] = -100
        grads = []
        for r in range(replicas or 1):
            x_ref = (x[r] if replicas else x).clone().requires_grad_()
            ref(x_ref, target[r] if replicas else target).backward()
            grads.append(x_ref.grad)
        loss = crit(x, target)
        expected = torch.stack(grads) if replicas else grads[0]
        assert_close(crit.backward(), expected, rtol=1e-10, atol=1e-12)
        assert loss.shape == ((replicas,) if replicas else ())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_mask_is_bit_identical_to_torch(p, dtype):
    # Same RNG state -> the very same mask as torch.nn.Dropout, not merely the same distribution.
    x = torch.randn(64, 33, dtype=dtype)
    torch.manual_seed(7)
    expected = torch.nn.Dropout(p)(x)
    torch.manual_seed(7)
    actual = mininet.Dropout(p)(x)
    assert torch.equal(actual, expected)
    assert 0 < int((actual == 0).sum()) < x.numel()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: torch.nn.Dropout runs a fused kernel there")
@pytest.mark.parametrize("inplace", [False, True])
def test_dropout_on_cuda_draws_torchs_mask(inplace):
    x = torch.randn(256, 33, device="cuda")
    torch.manual_seed(7)
    expected = torch.nn.Dropout(0.3, inplace=inplace)(x.clone())
    torch.manual_seed(7)
    drop = mininet.Dropout(0.3, inplace=inplace)
    assert torch.equal(drop(x.clone()), expected)
    g = torch.randn_like(x)
    assert_close(drop.backward(g), torch.where(expected != 0, g / 0.7, 0.0))


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_takes_the_classes_from_dimension_1(reduction):
    # Regression: with probability targets on (5, 3, 4, 2), mininet took the classes from the last
    # dimension (2 of them) and gave another number (and a (5, 3, 4) loss for "none"); torch's are in
    # dimension 1 (3 of them), the unreduced loss (5, 4, 2).
    torch.manual_seed(0)
    x = torch.randn(5, 3, 4, 2, dtype=torch.float64)
    target = torch.softmax(torch.randn(5, 3, 4, 2, dtype=torch.float64), dim=1)
    x_ref = x.clone().requires_grad_()
    loss_ref = torch.nn.CrossEntropyLoss(reduction=reduction)(x_ref, target)
    crit = mininet.CrossEntropyLoss(reduction=reduction)
    loss = crit(x, target)
    assert loss.shape == loss_ref.shape == ((5, 4, 2) if reduction == "none" else ())
    assert_close(loss, loss_ref.detach(), rtol=1e-10, atol=1e-12)
    seed = loss_seed(crit, loss)
    loss_ref.backward(seed)
    assert_close(crit.backward(seed), x_ref.grad, rtol=1e-10, atol=1e-12)
