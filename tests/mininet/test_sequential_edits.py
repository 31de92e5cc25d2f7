"""Editing a Sequential (index, slice, append, extend, insert, pop, attribute) as torch.nn.Sequential does.

The same edits are applied to a torch.nn.Sequential and a mininet.Sequential: after each one the children's
names, the state_dict keys, the forward output and the backward (against autograd) must agree.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

import mininet

# Each edit takes a namespace (torch.nn or mininet) and the Sequential; layer sizes keep the chain valid.
EDITS = {
    "setitem": lambda ns, s: s.__setitem__(1, ns.Tanh()),
    "setitem-negative": lambda ns, s: s.__setitem__(-1, ns.Linear(5, 3)),
    "delitem": lambda ns, s: s.__delitem__(1),
    "delitem-slice": lambda ns, s: s.__delitem__(slice(1, 3)),
    "append": lambda ns, s: s.append(ns.Sigmoid()),
    "extend": lambda ns, s: s.extend([ns.ReLU(), ns.Linear(2, 2)]),
    "insert": lambda ns, s: s.insert(1, ns.Tanh()),
    "insert-negative": lambda ns, s: s.insert(-1, ns.ReLU()),
    "insert-end": lambda ns, s: s.insert(len(s), ns.Tanh()),
    "pop": lambda ns, s: s.pop(1),
    "attribute": lambda ns, s: setattr(s, "head", ns.Sigmoid()),
    "attribute-replace": lambda ns, s: setattr(s, "0", ns.Linear(4, 5)),
}


@pytest.fixture(autouse=True)
def float64_layers():
    # the layers that edits create are float64 too
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def start(ns):
    return ns.Sequential(ns.Linear(4, 5), ns.ReLU(), ns.Linear(5, 5), ns.Linear(5, 2))


@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_edit_matches_torch(edit):
    torch.manual_seed(0)
    ref = start(nn)
    torch.manual_seed(0)
    seq = start(mininet)
    torch.manual_seed(1)
    out_ref = EDITS[edit](nn, ref)
    torch.manual_seed(1)
    out = EDITS[edit](mininet, seq)
    if isinstance(out_ref, nn.Module) and out_ref is not ref:  # pop returns the module taken out
        assert type(out).__name__ == type(out_ref).__name__
    assert list(seq._modules) == list(ref._modules)
    assert list(seq.state_dict()) == list(ref.state_dict())
    assert len(seq) == len(ref) and [type(m).__name__ for m in seq] == [type(m).__name__ for m in ref]
    ref.load_state_dict(seq.state_dict())

    x = torch.randn(3, 4, dtype=torch.float64)
    x_ref = x.clone().requires_grad_()
    y_ref = ref(x_ref)
    y = seq(x)
    assert_close(y, y_ref.detach())
    g = torch.randn(y.shape, dtype=torch.float64)
    y_ref.backward(g)
    seq.zero_grad()
    assert_close(seq.backward(g), x_ref.grad)
    for (name, p), (_, p_ref) in zip(seq.named_parameters(), ref.named_parameters()):
        assert_close(p.grad, p_ref.grad, msg=lambda m, n=name: f"{n}: {m}")


def test_bad_edits_are_refused_like_torch():
    seq = start(mininet)
    with pytest.raises(IndexError, match="index 4 is out of range for 4 modules"):
        seq[4]
    with pytest.raises(IndexError, match="index -5 is out of range"):
        del seq[-5]
    with pytest.raises(IndexError, match="insert: index 6 is out of range"):
        seq.insert(6, mininet.ReLU())
    with pytest.raises(TypeError, match="cannot put a int at index 1"):
        seq[1] = 3
    with pytest.raises(TypeError, match="insert: expected a mininet Module, got Tanh"):
        seq.insert(0, nn.Tanh())
    assert len(seq) == 4  # nothing changed


def test_slice_shares_the_modules():
    seq = start(mininet)
    head = seq[:2]
    assert isinstance(head, mininet.Sequential) and list(head._modules) == ["0", "1"]
    assert head[0] is seq[0]
    tail = seq[2:]
    assert list(tail._modules) == ["2", "3"]  # names kept, as torch's slicing keeps them
    assert tail(head(torch.randn(3, 4))).shape == (3, 2)
