"""Frozen parameters (requires_grad False), against torch: no gradient, no update, the rest trains the same."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

import mininet


def model(nn):
    # no bias before BatchNorm: its gradient is zero in exact arithmetic, and rounding noise that
    # Adagrad or RMSprop would scale up to full steps
    return nn.Sequential(nn.Linear(3, 6), nn.LayerNorm(6), nn.ReLU(), nn.Linear(6, 5, bias=False), nn.BatchNorm1d(5),
                         nn.Tanh(), nn.Linear(5, 2))


def freeze_first_block(nn_model):
    nn_model[0].requires_grad_(False)  # a whole module
    nn_model[1].bias.requires_grad_(False)  # one parameter
    nn_model[4].weight.requires_grad = False  # the attribute itself


OPTIMIZERS = {
    "sgd-momentum": lambda optim, params: optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01),
    "adam": lambda optim, params: optim.Adam(params, lr=0.01, weight_decay=0.01),
    "rmsprop": lambda optim, params: optim.RMSprop(params, lr=0.01, momentum=0.5),
    "adagrad": lambda optim, params: optim.Adagrad(params, lr=0.1),
}


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_frozen_parameters_train_as_in_torch(make_optimizer):
    torch.manual_seed(0)
    ref = model(torch.nn).double()
    ours = model(mininet).double()
    ours.load_state_dict(ref.state_dict())
    before = {k: v.clone() for k, v in ref.state_dict().items()}
    freeze_first_block(ref)
    freeze_first_block(ours)
    opt_ref, opt = make_optimizer(torch.optim, ref.parameters()), make_optimizer(mininet.optim, ours.parameters())
    crit_ref, crit = torch.nn.CrossEntropyLoss(), mininet.CrossEntropyLoss()
    for step in range(5):
        x, y = torch.randn(8, 3, dtype=torch.float64), torch.randint(0, 2, (8,))
        opt_ref.zero_grad()
        crit_ref(ref(x), y).backward()
        opt_ref.step()
        opt.zero_grad()
        crit(ours(x), y)
        ours.backward(crit.backward())
        opt.step()
    frozen = {"0.weight", "0.bias", "1.bias", "4.weight"}
    for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        assert p.requires_grad == q.requires_grad == (name not in frozen), name
        assert (p.grad is None) == (q.grad is None), name
    state, state_ref = ours.state_dict(), ref.state_dict()
    for key in state_ref:
        assert_close(state[key], state_ref[key], rtol=1e-10, atol=1e-12, msg=lambda m, k=key: f"{k}: {m}")
        if key in frozen:
            assert torch.equal(state[key], before[key]), key


def test_requires_grad_switches_back_and_returns_the_module():
    m = mininet.Linear(3, 2)
    assert m.requires_grad_(False) is m and not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())
    assert m.weight.requires_grad_(False) is m.weight
    assert "requires_grad=False" in repr(m.weight) and "requires_grad" not in repr(m.bias)


def test_frozen_linear_still_passes_the_gradient_to_its_input():
    torch.manual_seed(0)
    ref, ours = torch.nn.Linear(4, 3).double(), mininet.Linear(4, 3).double()
    ours.load_state_dict(ref.state_dict())
    ref.requires_grad_(False)
    ours.requires_grad_(False)
    x = torch.randn(5, 4, dtype=torch.float64)
    x_ref = x.clone().requires_grad_()
    g = torch.randn(5, 3, dtype=torch.float64)
    ref(x_ref).backward(g)
    ours(x)
    assert_close(ours.backward(g), x_ref.grad, rtol=1e-12, atol=0)
    assert ours.weight.grad is None and ours.bias.grad is None
