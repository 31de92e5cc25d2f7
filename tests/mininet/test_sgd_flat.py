"""SGD's flat-buffer step: same numbers as torch, and safe when parameters change under it."""

from __future__ import annotations

import torch

import mininet as mn
from mininet.optim import SGD


def _pair(dtype=torch.float32):
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).to(dtype)
    m = mn.Sequential(mn.Linear(3, 4), mn.ReLU(), mn.Linear(4, 2)).to(dtype)
    m.load_state_dict(t.state_dict())
    return t, m


def _grads(m, step):
    g = torch.Generator().manual_seed(step)
    return [torch.randn(p.shape, generator=g, dtype=p.dtype) for p in m.parameters()]


def test_parameters_become_views_of_one_buffer_and_stay_bit_identical_to_torch():
    t, m = _pair()
    topt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    mopt = SGD(list(m.parameters()), lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    for step in range(10):
        for tp, mp, g in zip(t.parameters(), m.parameters(), _grads(m, step)):
            tp.grad, mp.grad = g.clone(), g.clone()
        topt.step()
        mopt.step()
    storages = {p.data.untyped_storage().data_ptr() for p in m.parameters()}
    assert len(storages) == 1
    for tp, mp in zip(t.parameters(), m.parameters()):
        assert torch.equal(tp.detach(), mp.data)
    for tp, mp in zip(t.parameters(), m.parameters()):
        assert torch.equal(topt.state[tp]["momentum_buffer"], mopt.state[mp]["momentum_buffer"])


def test_replaced_parameters_are_still_updated():
    t, m = _pair(torch.float64)
    mopt = SGD(list(m.parameters()), lr=0.5, momentum=0.5)
    for p, g in zip(m.parameters(), _grads(m, 0)):
        p.grad = g
    mopt.step()  # flattens
    m.to(torch.float32).to(torch.float64)  # every .data is a new tensor now
    before = [p.data.clone() for p in m.parameters()]
    for p, g in zip(m.parameters(), _grads(m, 1)):
        p.grad = g
    mopt.step()
    assert all(not torch.equal(b, p.data) for b, p in zip(before, m.parameters()))


def test_a_parameter_without_gradient_is_left_alone():
    _, m = _pair()
    mopt = SGD(list(m.parameters()), lr=0.1, momentum=0.9)
    params = list(m.parameters())
    for p, g in zip(params, _grads(m, 0)):
        p.grad = g
    mopt.step()
    params[0].grad = None
    frozen = params[0].data.clone()
    mopt.step()
    assert torch.equal(params[0].data, frozen)
