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
from mininet_cases import LAYER_CASES, build_mininet, call_params, can_replicate, case_inputs, flatten, loss_params, loss_seed

R = 3
OPTIMIZERS = {
    "SGD": lambda p: mininet.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "Adam": lambda p: mininet.optim.Adam(p, amsgrad=True),
    "AdamW": lambda p: mininet.optim.AdamW(p),
    "RMSprop": lambda p: mininet.optim.RMSprop(p, momentum=0.5, centered=True),
    "Adagrad": lambda p: mininet.optim.Adagrad(p),
    # torch's implementation switches (fused keeps its float32 step counters on the parameters' device)
    "Adam-fused": lambda p: mininet.optim.Adam(p, fused=True),
    "Adagrad-fused": lambda p: mininet.optim.Adagrad(p, fused=True),
    "SGD-foreach": lambda p: mininet.optim.SGD(p, lr=torch.tensor(0.1), momentum=0.9, foreach=True),
}


def on_meta(t: torch.Tensor) -> bool:
    return t.device.type == "meta"


def on_meta_args(args):
    return tuple(on_meta_args(a) if isinstance(a, tuple) else a.to("meta") for a in args)


@pytest.mark.parametrize("case, replicas", [
    pytest.param(c, replicas, id=f"{c.id}-{'replicated' if replicas else 'single'}")
    for replicas in (None, R) for c in LAYER_CASES if c.id != "Linear-3d" and (can_replicate(c) or not replicas)])
def test_layer_steps_on_meta(case, replicas):
    module = build_mininet(case).to("meta")
    if replicas:
        module.replicate(replicas)
    module.train(case.train)
    args = on_meta_args(case_inputs(case, torch.float64, replicas))
    y = module(*args)
    outputs = flatten(y)
    gs = [torch.empty(out.shape, device="meta", dtype=torch.float64) for out in outputs]
    grads = module.backward(*gs) if isinstance(y, tuple) else module.backward(gs[0])
    grads = flatten(grads)
    assert all(on_meta(out) for out in outputs)
    for grad, arg in zip(grads, flatten(args)):
        assert (grad is None) if not arg.is_floating_point() else on_meta(grad) and grad.shape == arg.shape
    assert all(on_meta(p.grad) for p in module.parameters())
    assert all(on_meta(b) for b in module.buffers())


@pytest.mark.parametrize("case", call_params())
def test_call_steps_on_meta(case):
    # several inputs, masks and keyword arguments (attention); the masks go to the meta device too
    module = build_mininet(case).to("meta")
    inputs = [torch.empty(shape, device="meta", dtype=torch.float64) for shape in case.shapes]
    kwargs = {k: v.to("meta") if isinstance(v, torch.Tensor) else v for k, v in case.kwargs(torch.float64).items()}
    outputs = module.forward(*case.args(inputs), **kwargs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    grads = module.backward(*[None if y is None else torch.empty(y.shape, device="meta", dtype=torch.float64)
                              for y in outputs])
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert all(on_meta(y) for y in outputs if y is not None)
    assert [g.shape for g in grads] == [inputs[i].shape for i in case.arg_inputs] and all(map(on_meta, grads))
    assert all(on_meta(p.grad) for p in module.parameters())


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
