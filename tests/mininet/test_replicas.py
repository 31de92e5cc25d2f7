"""replicate(R): one module holding R stacked copies computes what R separate modules compute.

Each of the R separate modules gets its own random state; the replicated module loads the stacked
state_dicts and runs on the stacked inputs. Outputs, input gradients, parameter gradients and the
state after the forward (running statistics) must agree to float64 rounding.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

import mininet
from mininet_cases import (FORWARD_SEED, LAYER_CASES, LOSS_CASES, build_mininet, can_replicate, case_inputs,
                           clone_inputs, flatten, layer_params, loss_params)

R = 3
TOL = {"rtol": 1e-12, "atol": 1e-12}
REPLICABLE = [c for c in LAYER_CASES if can_replicate(c)]


def replicated(case, states):
    rep = case.build(mininet).to(torch.float64).replicate(len(states))
    rep.load_state_dict(mininet.stack_state_dicts(states))
    return rep


def replica(args, r):
    """Replica r's forward arguments: every tensor indexed [r], nested tuples kept."""
    return tuple(replica(a, r) if isinstance(a, tuple) else a[r].clone() for a in args)


def backward(module, y, gs):
    """module.backward with one gradient per output; the result as one entry per input."""
    result = module.backward(*gs) if isinstance(y, tuple) else module.backward(gs[0])
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("case", layer_params(REPLICABLE))
def test_replicated_layer_equals_separate_layers(case):
    torch.manual_seed(0)
    singles = [build_mininet(case) for _ in range(R)]
    rep = replicated(case, [m.state_dict() for m in singles]).train(case.train)
    args = case_inputs(case, torch.float64, replicas=R)

    # One Dropout mask of shape (R, ...) draws the same numbers as R masks drawn one after the other.
    torch.manual_seed(FORWARD_SEED)
    y = rep(*clone_inputs(args))
    torch.manual_seed(FORWARD_SEED)
    ys = [m(*replica(args, r)) for r, m in enumerate(singles)]
    outputs = flatten(y)
    for k, out in enumerate(outputs):
        assert_close(out, torch.stack([flatten(y_r)[k] for y_r in ys]), **TOL)

    gs = [torch.randn(out.shape, dtype=torch.float64) for out in outputs]
    rep.zero_grad()
    grads = backward(rep, y, gs)
    for r, m in enumerate(singles):
        m.zero_grad()
        for grad, grad_r in zip(grads, backward(m, ys[r], [g[r] for g in gs]), strict=True):
            assert (grad is None) == (grad_r is None)
            if grad is not None:
                assert_close(grad[r], grad_r, **TOL)
        rep_params = dict(rep.named_parameters())
        for name, p in m.named_parameters():
            assert_close(rep_params[name].grad[r], p.grad, **TOL, msg=lambda msg, n=name: f"{n}: {msg}")
        state = mininet.unstack_state_dict(rep.state_dict(), r)
        for key, value in m.state_dict().items():
            assert_close(state[key], value, **TOL, msg=lambda msg, k=key: f"{k}: {msg}")


@pytest.mark.parametrize("seeded_backward", [False, True], ids=["grad_output=None", "grad_output=loss-shaped"])
@pytest.mark.parametrize("case", loss_params([c for c in LOSS_CASES if c.replicable]))
def test_replicated_loss_equals_separate_losses(case, seeded_backward):
    torch.manual_seed(0)
    singles = [build_mininet(case) for _ in range(R)]
    for m in singles[1:]:
        m.load_state_dict(singles[0].state_dict())  # class weights are shared by the replicas
    rep = case.build(mininet).to(torch.float64).replicate(R)
    rep.load_state_dict(singles[0].state_dict())
    x = case.scale * torch.randn((R,) + case.shape, dtype=torch.float64)
    target = torch.stack([case.target(case.shape, torch.float64) for _ in range(R)])
    loss = rep(x, target)
    unreduced = rep.reduction == "none"
    assert loss.shape[0] == R and (unreduced or loss.shape == (R,))
    grad_output = torch.randn(loss.shape, dtype=torch.float64) if seeded_backward else None
    if unreduced and grad_output is None:
        with pytest.raises(ValueError, match=r"reduction='none'\).backward\(grad_output\): .* loss's shape"):
            rep.backward(None)
        return
    grad_x = rep.backward(grad_output)
    for r, m in enumerate(singles):
        assert_close(loss[r], m(x[r], target[r]), **TOL, equal_nan=True)  # nan: the mean of an empty batch
        assert_close(grad_x[r], m.backward(None if grad_output is None else grad_output[r]), **TOL)
