"""Nothing in mininet assumes a CPU: every layer, loss and optimizer runs on the "meta" device.

A meta tensor has a shape, a dtype and a device but no values. A training step that runs there creates
no tensor on the CPU behind the caller's back (mixing devices would raise) and reads no value back to
the host (``.item()`` and friends raise on meta; on a GPU each would stall the stream). It is what this
suite can check of the GPU path without a GPU; the same step on CUDA is what ``--set device=cuda``
runs.
"""

from __future__ import annotations

import pytest
import torch

import mininet
from mininet_cases import LAYER_CASES, build_mininet, layer_params, loss_params, loss_seed

R = 3
OPTIMIZERS = {
    "SGD": lambda p: mininet.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "Adam": lambda p: mininet.optim.Adam(p, amsgrad=True),
    "AdamW": lambda p: mininet.optim.AdamW(p),
    "RMSprop": lambda p: mininet.optim.RMSprop(p, momentum=0.5, centered=True),
    "Adagrad": lambda p: mininet.optim.Adagrad(p),
}


def on_meta(t: torch.Tensor) -> bool:
    return t.device.type == "meta"


@pytest.mark.parametrize("replicas", [None, R], ids=["single", "replicated"])
@pytest.mark.parametrize("case", layer_params([c for c in LAYER_CASES if c.id != "Linear-3d"]))
def test_layer_steps_on_meta(case, replicas):
    module = build_mininet(case).to("meta")
    shape = case.shape
    if replicas:
        module.replicate(replicas)
        shape = (replicas,) + shape
    module.train(case.train)
    x = torch.empty(shape, device="meta", dtype=torch.float64)
    y = module(x)
    grad_x = module.backward(torch.empty(y.shape, device="meta", dtype=torch.float64))
    assert on_meta(y) and on_meta(grad_x) and grad_x.shape == x.shape
    assert all(on_meta(p.grad) for p in module.parameters())
    assert all(on_meta(b) for b in module.buffers())


@pytest.mark.parametrize("case, replicas", [
    pytest.param(*p.values, R if replicated else None, id=f"{p.id}-{'replicated' if replicated else 'single'}")
    for p in loss_params() for replicated in (False, True) if p.values[0].replicable or not replicated])
def test_loss_steps_on_meta(case, replicas):
    crit = build_mininet(case).to("meta")
    shape, target = case.shape, case.target(case.shape, torch.float64)
    if replicas:
        crit.replicate(replicas)
        shape, target = (replicas,) + shape, torch.stack([target] * replicas)
    x = torch.empty(shape, device="meta", dtype=torch.float64)
    loss = crit(x, target.to("meta"))
    seed = loss_seed(crit, torch.empty(loss.shape, dtype=torch.float64))
    grad = crit.backward(None if seed is None else seed.to("meta"))
    assert on_meta(loss) and on_meta(grad) and grad.shape == x.shape


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_steps_on_meta(name):
    model = mininet.Sequential(mininet.Linear(3, 4), mininet.ReLU(), mininet.Linear(4, 2)).to("meta")
    optimizer = OPTIMIZERS[name](list(model.parameters()))
    scheduler = mininet.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    for _ in range(3):  # the first step creates the state, later ones update it
        optimizer.zero_grad()
        model(torch.empty(5, 3, device="meta"))
        model.backward(torch.empty(5, 2, device="meta"))
        optimizer.step()
        scheduler.step()
    assert all(on_meta(p.data) for p in model.parameters())
    assert all(on_meta(v) for state in optimizer.state.values() for v in state.values()
               if isinstance(v, torch.Tensor) and v.dim() > 0)
