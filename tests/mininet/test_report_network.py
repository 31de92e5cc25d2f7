"""The report's network, trained 50 epochs by mininet and by torch.nn from the same state on the same
batches: MSE in float32 ends bit-identical, CrossEntropy in float64 within 1e-10."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import mininet as mn
from mininet.optim import SGD


def _layers(lib):
    return lib.Sequential(lib.Linear(2, 25), lib.ReLU(), lib.Linear(25, 25), lib.ReLU(),
                          lib.Linear(25, 25), lib.ReLU(), lib.Linear(25, 2))


def _disk(g: torch.Generator, n: int = 1000):
    x = torch.rand(n, 2, generator=g)
    y = ((x - 0.5).pow(2).sum(1) < 1 / (2 * math.pi)).long()
    return (x - x.mean(0)) / x.std(0), y


@pytest.mark.parametrize("loss, dtype", [("mse", torch.float32), ("cross_entropy", torch.float64)])
def test_fifty_epochs_match_torch(loss, dtype):
    g = torch.Generator().manual_seed(2019)
    x, y = _disk(g)
    x = x.to(dtype)
    target = nn.functional.one_hot(y, 2).to(dtype) if loss == "mse" else y
    reference = _layers(nn).to(dtype)
    for m in reference:  # the report's initialisation: Xavier-normal weights, zero biases
        if isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight, generator=g)
            nn.init.zeros_(m.bias)
    ours = _layers(mn).to(dtype)
    ours.load_state_dict(reference.state_dict())
    initial = {k: v.clone() for k, v in reference.state_dict().items()}
    t_loss, m_loss = (nn.MSELoss(), mn.MSELoss()) if loss == "mse" else (nn.CrossEntropyLoss(), mn.CrossEntropyLoss())
    t_opt = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.2)
    m_opt = SGD(ours.parameters(), lr=0.1, momentum=0.2)
    for _ in range(50):
        for batch in torch.randperm(1000, generator=g).split(100):
            t_opt.zero_grad()
            t_loss(reference(x[batch]), target[batch]).backward()
            t_opt.step()
            with torch.inference_mode():
                m_loss(ours(x[batch]), target[batch])
                m_opt.zero_grad()
                ours.backward(m_loss.backward())
                m_opt.step()
    theirs = reference.state_dict()
    for key, value in ours.state_dict().items():
        if loss == "mse":
            assert torch.equal(value, theirs[key]), key
        else:
            assert (value - theirs[key]).abs().max().item() <= 1e-10, key
    assert all(not torch.equal(initial[k], theirs[k]) for k in theirs)  # it did train
