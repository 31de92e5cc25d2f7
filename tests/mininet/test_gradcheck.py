"""Hand-written backward passes against central finite differences (float64, no torch.nn, no autograd).

For a layer, the scalar checked is f = sum(module(x) * G) for a fixed random G, so df/dx must equal
module.backward(G) and df/dp the gradient accumulated in each parameter. Dropout runs every forward
from the same seed, i.e. with a fixed mask; BatchNorm in training mode recomputes its batch statistics
at every evaluation, so their dependence on x is part of what is checked.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from mininet_cases import build_mininet, layer_params, loss_params, loss_seed, seeded

STEP = 1e-6
TOL = {"rtol": 1e-6, "atol": 1e-8}


def numeric_grad(f, t: torch.Tensor) -> torch.Tensor:
    """d f / d t by central differences, perturbing ``t`` in place one element at a time."""
    grad = torch.empty_like(t)
    flat, gflat = t.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        orig = flat[i].item()
        flat[i] = orig + STEP
        hi = f()
        flat[i] = orig - STEP
        lo = f()
        flat[i] = orig
        gflat[i] = (hi - lo) / (2 * STEP)
    return grad


@pytest.mark.parametrize("case", layer_params())
def test_layer_gradients_match_finite_differences(case):
    torch.manual_seed(0)
    mod = build_mininet(case)
    x = case.scale * torch.randn(case.shape, dtype=torch.float64)
    out = seeded(mod, x.clone())
    g = torch.randn(out.shape, dtype=torch.float64)
    mod.zero_grad()
    grad_x = mod.backward(g)
    grads = {name: p.grad.clone() for name, p in mod.named_parameters()}

    def f() -> float:
        return float((seeded(mod, x.clone()) * g).sum())

    assert_close(grad_x, numeric_grad(f, x), **TOL)
    for name, p in mod.named_parameters():
        assert_close(grads[name], numeric_grad(f, p.data), **TOL, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.parametrize("case", loss_params())
def test_loss_gradient_matches_finite_differences(case):
    torch.manual_seed(0)
    crit = build_mininet(case)
    x = case.scale * torch.randn(case.shape, dtype=torch.float64)
    target = case.target(case.shape, torch.float64)
    seed = loss_seed(crit, crit(x, target))
    grad_x = crit.backward(seed)
    # an unreduced loss is checked through the scalar sum(loss * seed)
    objective = (lambda: float(crit(x, target))) if seed is None else (lambda: float((crit(x, target) * seed).sum()))
    assert_close(grad_x, numeric_grad(objective, x), **TOL)
