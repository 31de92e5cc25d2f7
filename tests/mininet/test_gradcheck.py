"""Hand-written backward passes against central finite differences (float64, no torch.nn, no autograd).

Every layer and loss goes through ``mininet.testing.gradcheck`` (whose own tests show it catching wrong
backward passes): for a layer the scalar checked is f = sum(module(x) * G) for a fixed random G, so
df/dx must equal module.backward(G) and df/dp the gradient accumulated in each parameter. Dropout runs
every forward from the same seed, i.e. with a fixed mask; BatchNorm in training mode recomputes its
batch statistics at every evaluation, so their dependence on x is part of what is checked.
"""

from __future__ import annotations

import pytest
import torch

from mininet.testing import gradcheck
from mininet_cases import LAYER_CASES, build_mininet, call_params, case_inputs, layer_params, loss_params

TOL = {"eps": 1e-6, "rtol": 1e-6, "atol": 1e-8}


# Not derivatives, by torch's design (test_parity_modules checks them against torch): max_norm
# renormalises the weight inside forward, which backward does not differentiate; scale_grad_by_freq
# divides each row's true gradient by how often the batch names the row; the padding_idx row gets none.
NOT_DIFFERENTIATED = ("Embedding-max_norm", "Embedding-max_norm-1", "Embedding-padding", "Embedding-scale_grad-padding")


@pytest.mark.parametrize("case", layer_params([c for c in LAYER_CASES if c.id not in NOT_DIFFERENTIATED]))
def test_layer_gradients_match_finite_differences(case):
    torch.manual_seed(0)
    args = case_inputs(case, torch.float64)
    # several forward arguments (recurrent states): gradcheck takes them as one tuple
    assert gradcheck(build_mininet(case), args if len(args) > 1 else args[0], **TOL)


@pytest.mark.parametrize("case", call_params())
def test_call_gradients_match_finite_differences(case):
    # query, key and value (one tensor where the case ties them: perturbed once, its gradients added),
    # every output's gradient (the attention weights' too), the masks as keyword arguments
    torch.manual_seed(0)
    inputs = case.inputs(torch.float64)
    assert gradcheck(build_mininet(case), case.args(inputs), forward_kwargs=case.kwargs(torch.float64), **TOL)


@pytest.mark.parametrize("case", loss_params())
def test_loss_gradient_matches_finite_differences(case):
    torch.manual_seed(0)
    crit = build_mininet(case)
    x = case.scale * torch.randn(case.shape, dtype=torch.float64)
    assert gradcheck(crit, x, case.target(case.shape, torch.float64), **TOL)
