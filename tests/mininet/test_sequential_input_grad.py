"""Sequential.backward(g, input_grad=False): the same parameter gradients, no input gradient."""

from __future__ import annotations

import pytest
import torch

import mininet as mn


def _model(first):
    return mn.Sequential(first, mn.Linear(4, 5), mn.ReLU(), mn.Linear(5, 3))


@pytest.mark.parametrize("first", [lambda: mn.Linear(4, 4), lambda: mn.Tanh(), lambda: mn.Dropout(0.0)],
                         ids=["linear", "tanh", "dropout"])
@pytest.mark.parametrize("replicas", [None, 3])
def test_parameter_grads_equal_without_input_grad(first, replicas):
    torch.manual_seed(0)
    a = _model(first()).double()
    b = _model(first()).double()
    b.load_state_dict(a.state_dict())
    shape = (8, 4)
    if replicas:
        a.replicate(replicas)
        b.replicate(replicas)
        b.load_state_dict(a.state_dict())
        shape = (replicas, 8, 4)
    x = torch.randn(shape, dtype=torch.float64)
    g = torch.randn(shape[:-1] + (3,), dtype=torch.float64)
    a(x)
    grad_x = a.backward(g)
    assert grad_x.shape == x.shape
    b(x)
    assert b.backward(g, input_grad=False) is None
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert torch.equal(pa.grad, pb.grad), name


def test_skipping_really_skips_the_first_linear_input_product(monkeypatch):
    model = mn.Sequential(mn.Linear(4, 5), mn.ReLU(), mn.Linear(5, 2))
    calls = []
    original = torch.mm

    def counting_mm(a, b, *args, **kwargs):
        calls.append((tuple(a.shape), tuple(b.shape)))
        return original(a, b, *args, **kwargs)

    x = torch.randn(7, 4)
    model(x)
    monkeypatch.setattr(torch, "mm", counting_mm)
    model.backward(torch.randn(7, 2), input_grad=False)
    # weight grads of both layers and the input grad of the last one only: (7,5)@(5,4) never runs
    assert ((7, 5), (5, 4)) not in calls
    assert len(calls) == 3


def test_free_saved_drops_activations_and_backward_then_asks_for_forward():
    model = mn.Sequential(mn.Linear(4, 5), mn.ReLU(), mn.Linear(5, 2))
    loss = mn.MSELoss()
    loss(model(torch.randn(3, 4)), torch.randn(3, 2))
    model.free_saved()
    loss.free_saved()
    held = [v for m in list(model.modules()) + [loss] for k, v in vars(m).items()
            if k.startswith("_") and isinstance(v, torch.Tensor)]
    assert held == []
    assert all(p.data is not None for p in model.parameters())
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(torch.randn(3, 2))
