"""Forward and backward hooks: called as torch.nn.Module's are, with the same tensors, and removable.

Each test builds the same model in torch.nn and mininet (same weights), registers the same hooks on
both, runs a forward and a backward (autograd for torch, the hand-written chain for mininet), and
compares what the hooks saw and what they changed.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

import mininet


def pair():
    torch.manual_seed(0)
    ref = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    ours = mininet.Sequential(mininet.Linear(3, 5), mininet.Tanh(), mininet.Linear(5, 4), mininet.ReLU(),
                              mininet.Linear(4, 2)).double()
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def run(ref, ours, x, g):
    """Forward and backward on both; returns (torch output, torch input grad, mininet's the same)."""
    x_ref = x.clone().requires_grad_()
    y_ref = ref(x_ref)
    y_ref.backward(g)
    y = ours(x)
    return y_ref.detach(), x_ref.grad, y, ours.backward(g)


def recorder(log):
    def hook(module, *tensors):
        # every tensor the hook was given, flattened out of its tuples (None kept)
        flat = [t for group in tensors for t in (group if isinstance(group, tuple) else (group,))]
        log.append((type(module).__name__, [None if t is None else t.detach().clone() for t in flat]))
    return hook


def cnn_pair():
    torch.manual_seed(0)

    def build(ns):
        return ns.Sequential(ns.Conv2d(2, 3, 3, padding=1), ns.BatchNorm2d(3), ns.ReLU(), ns.MaxPool2d(2),
                             ns.Flatten(), ns.Linear(12, 2))

    ref, ours = build(nn).double(), build(mininet).double()
    ours.load_state_dict(ref.state_dict())
    return ref, ours


@pytest.mark.parametrize("kind", ["register_forward_pre_hook", "register_forward_hook",
                                  "register_full_backward_pre_hook", "register_full_backward_hook"])
@pytest.mark.parametrize("models, x_shape, y_shape", [
    (pair, (6, 3), (6, 2)), (cnn_pair, (4, 2, 4, 4), (4, 2)),
], ids=["mlp", "cnn"])
def test_hooks_see_what_torchs_see(kind, models, x_shape, y_shape):
    ref, ours = models()
    logs = {"torch": [], "mininet": []}
    for model, log in ((ref, logs["torch"]), (ours, logs["mininet"])):
        for layer in model:
            getattr(layer, kind)(recorder(log))
    x, g = torch.randn(x_shape, dtype=torch.float64), torch.randn(y_shape, dtype=torch.float64)
    run(ref, ours, x, g)
    assert [name for name, _ in logs["mininet"]] == [name for name, _ in logs["torch"]]
    assert len(logs["mininet"]) == len(ours)  # every layer, once, in the order torch calls them
    for (name, ts), (_, ts_ref) in zip(logs["mininet"], logs["torch"]):
        assert len(ts) == len(ts_ref), name
        for t, t_ref in zip(ts, ts_ref):
            assert (t is None) == (t_ref is None), name
            if t is not None:
                assert_close(t, t_ref, rtol=1e-12, atol=1e-12)


def test_hooks_that_return_values_replace_them_as_in_torch():
    ref, ours = pair()
    for model in (ref, ours):
        model[0].register_forward_pre_hook(lambda m, args: (2 * args[0],))
        model[1].register_forward_hook(lambda m, args, out: out + 0.5)
        model[4].register_full_backward_pre_hook(lambda m, grad_output: (grad_output[0] * 3,))
        model[2].register_full_backward_hook(lambda m, grad_input, grad_output: (grad_input[0].clamp(-0.1, 0.1),))
    x, g = torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 2, dtype=torch.float64)
    y_ref, gx_ref, y, gx = run(ref, ours, x, g)
    assert_close(y, y_ref)
    # What a forward (pre-)hook computes is not differentiated by mininet (no autograd records it):
    # backward returns d loss / d (the hooked input 2x), where torch's includes the hook's factor 2.
    assert_close(2 * gx, gx_ref)
    for (name, p), (_, p_ref) in zip(ours.named_parameters(), ref.named_parameters()):
        assert_close(p.grad, p_ref.grad, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.filterwarnings("ignore:Full backward hook is firing when gradients are computed")
def test_training_step_hook_sees_no_input_gradient_for_the_first_layer():
    # a training step skips d loss / d input: the first Linear's hook gets None, as torch's does for
    # an input that does not require grad
    ref, ours = pair()
    seen = {}
    for name, model in (("torch", ref), ("mininet", ours)):
        model[0].register_full_backward_hook(lambda m, gi, go, name=name: seen.setdefault(name, gi))
    x, target = torch.randn(6, 3, dtype=torch.float64), torch.tensor([0, 1, 1, 0, 1, 0])
    nn.CrossEntropyLoss()(ref(x), target).backward()
    crit = mininet.CrossEntropyLoss()
    crit(ours(x), target)
    ours.backward(crit.backward(), input_grad=False)
    assert seen["torch"] == (None,) and seen["mininet"] == (None,)
    assert_close(ours[0].weight.grad, ref[0].weight.grad)


def test_loss_hooks_see_the_seed_and_the_input_gradient():
    crit = mininet.CrossEntropyLoss()
    seen = []
    crit.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    x = torch.randn(4, 3, dtype=torch.float64)
    crit(x, torch.tensor([0, 2, 1, 1]))
    grad = crit.backward()
    ((grad_input, grad_output),) = seen
    assert grad_output == (None,) and grad_input[0] is grad


def test_removed_hooks_are_gone_and_cost_nothing():
    layer = mininet.Linear(3, 2)
    calls = []
    forward = layer.register_forward_hook(lambda *a: calls.append("forward"))
    with layer.register_full_backward_hook(lambda *a: calls.append("backward")):
        assert "backward" in layer.__dict__  # the wrapper that runs the hook
        layer(torch.randn(4, 3))
        layer.backward(torch.ones(4, 2))
    assert "backward" not in layer.__dict__  # the class's own backward again
    forward.remove()
    forward.remove()  # a second remove is harmless, as in torch
    layer(torch.randn(4, 3))
    layer.backward(torch.ones(4, 2))
    assert calls == ["forward", "backward"]


def test_prepend_and_order():
    layer, order = mininet.ReLU(), []
    layer.register_forward_hook(lambda *a: order.append("first"))
    layer.register_forward_hook(lambda *a: order.append("second"))
    layer.register_forward_hook(lambda *a: order.append("prepended"), prepend=True)
    layer(torch.randn(2))
    assert order == ["prepended", "first", "second"]


def test_bad_hooks_say_so():
    layer = mininet.Linear(3, 2)
    with pytest.raises(TypeError, match="forward hook must be callable, got int"):
        layer.register_forward_hook(3)
    layer.register_full_backward_hook(lambda m, gi, go: gi[0])  # not a tuple
    layer(torch.randn(4, 3))
    with pytest.raises(TypeError, match="backward hook must return None or a tuple of one gradient, got Tensor"):
        layer.backward(torch.ones(4, 2))


def test_a_hooked_model_copies_with_its_own_backward():
    import copy
    layer = mininet.Linear(3, 2)
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append(m))
    twin = copy.deepcopy(layer)
    twin(torch.randn(4, 3))
    twin.backward(torch.ones(4, 2))
    assert seen == [twin] and twin.weight.grad is not None and layer.weight.grad is None
