"""mininet never uses autograd: a whole training step runs where autograd cannot, and the source has no
door to it (``torch.autograd``, ``Tensor.backward``, torch's ``*_backward`` kernels)."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import pytest
import torch

import mininet
from mininet_cases import build_mininet, call_params, loss_params, loss_seed

SOURCE = Path(mininet.__file__).parent
# the library proper; the runner (mininet.runner, since it moved under the package) trains the torch
# backend and checks parity with autograd, by design
RUNNER = SOURCE / "runner"


def every_layer(nn):
    return nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.1), nn.Dropout(0.2), nn.Linear(8, 8),
        # the 5 samples as one unbatched sequence of 5 positions: attention and the whole encoder layer
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1), nn.ELU(),
        nn.GELU(), nn.Softplus(), nn.SiLU(), nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.Identity(), nn.Linear(8, 4))


def training_step(case) -> list[torch.Tensor]:
    """Forward, loss, backward and an SGD step; returns every tensor that mininet made or holds."""
    torch.manual_seed(0)
    model = every_layer(mininet)
    crit = case.build(mininet)
    opt = mininet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = [p.data.clone() for p in model.parameters()]
    out = model(torch.randn(5, 6))
    loss = crit(out, case.target(out.shape, out.dtype))
    grad_in = model.backward(crit.backward(loss_seed(crit, loss)))
    opt.step()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    # (The first Linear's bias has a zero gradient in exact arithmetic: BatchNorm removes the mean.)
    assert not torch.equal(before[-2], model[-1].weight.data)
    return ([out, loss, grad_in] + [p.data for p in model.parameters()] + [p.grad for p in model.parameters()]
            + list(model.buffers()) + list(crit.buffers()))


def forbid_autograd(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("mininet called into autograd")

    monkeypatch.setattr(torch.Tensor, "backward", refuse)
    monkeypatch.setattr(torch.autograd, "backward", refuse)
    monkeypatch.setattr(torch.autograd, "grad", refuse)


@pytest.mark.parametrize("case", loss_params())
def test_training_step_runs_under_inference_mode(case, monkeypatch):
    forbid_autograd(monkeypatch)
    with torch.inference_mode():
        tensors = training_step(case)
    assert all(t.is_inference() and not t.requires_grad for t in tensors)


@pytest.mark.parametrize("case", loss_params())
def test_no_tensor_requires_grad_with_grad_mode_on(case, monkeypatch):
    forbid_autograd(monkeypatch)
    assert torch.is_grad_enabled()
    tensors = training_step(case)
    assert not any(t.requires_grad for t in tensors)
    assert all(t.grad_fn is None for t in tensors)


@pytest.mark.parametrize("case", call_params())
def test_call_runs_under_inference_mode(case, monkeypatch):
    # attention with every mask and option: forward and backward where autograd cannot run
    forbid_autograd(monkeypatch)
    with torch.inference_mode():
        torch.manual_seed(0)
        module = build_mininet(case)
        inputs = case.inputs(torch.float64)
        outputs = module.forward(*case.args(inputs), **case.kwargs(torch.float64))
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        grads = module.backward(*[None if y is None else torch.ones_like(y) for y in outputs])
    tensors = [y for y in outputs if y is not None] + list(grads if isinstance(grads, tuple) else (grads,))
    tensors += [p.grad for p in module.parameters()]
    assert all(t is not None and t.is_inference() and not t.requires_grad for t in tensors)


def code_names(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every identifier in the file's code: comments and strings (docstrings) left out."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [(tok.start[0], tok.string) for tok in tokens if tok.type == tokenize.NAME]


def test_source_has_no_door_to_autograd():
    files = sorted(path for path in SOURCE.rglob("*.py") if RUNNER not in path.parents)
    assert len(files) > 5
    offenders = []
    for path in files:
        names = code_names(path)
        for i, (line, name) in enumerate(names):
            # torch.autograd / torch.ops.aten.*; *_backward kernels (gelu_backward, native_batch_norm_backward, ...);
            # requires_grad_ / grad_fn / retain_grad: building or walking an autograd graph (mininet's own
            # Module/Parameter.requires_grad_, which only freezes, may be defined but is never called here).
            defined = i > 0 and names[i - 1][1] == "def"
            if (name in ("autograd", "aten", "grad_fn", "requires_grad_", "retain_grad", "enable_grad")
                    and not (name == "requires_grad_" and defined)
                    or (name.endswith("_backward") and name != "_backward")):
                offenders.append(f"{path.relative_to(SOURCE)}:{line}: {name}")
            # ``x.backward(...)`` is allowed only on mininet modules: every call site must name one.
            if name == "backward" and i > 0 and names[i - 1][0] == line:
                offenders.extend(check_backward_call(path, line))
    assert not offenders, "\n".join(offenders)


# The receivers of ``.backward(`` in mininet's code, each a Module (a child module, a chain entry).
MODULE_RECEIVERS = ("module.backward(", "child.backward(", "layer.backward(", "m.backward(", "super().backward(",
                    "type(module).backward(")  # the class's own backward, under a hook wrapper


def check_backward_call(path: Path, line: int) -> list[str]:
    text = path.read_text().splitlines()[line - 1]
    if ".backward(" not in text or text.lstrip().startswith("def "):
        return []
    if any(receiver in text for receiver in MODULE_RECEIVERS):
        return []
    return [f"{path.relative_to(SOURCE)}:{line}: .backward( on something not known to be a module: {text.strip()}"]


def sequence_step() -> list[torch.Tensor]:
    """A training step through every sequence layer and cell; returns every tensor mininet made or holds."""
    torch.manual_seed(0)
    emb = mininet.Embedding(11, 6, padding_idx=0, max_norm=2.0, scale_grad_by_freq=True)
    lstm = mininet.LSTM(6, 5, num_layers=2, bidirectional=True, dropout=0.2, proj_size=3)
    gru, rnn = mininet.GRU(6, 4, batch_first=True), mininet.RNN(4, 4, nonlinearity="relu")
    cells = [mininet.GRUCell(4, 4), mininet.LSTMCell(4, 3), mininet.RNNCell(3, 2)]
    head, crit = mininet.Linear(2, 5), mininet.CrossEntropyLoss()
    modules = [emb, lstm, gru, rnn, *cells, head]
    params = [p for m in modules for p in m.parameters()]
    opt = mininet.optim.SGD(params, lr=0.1, momentum=0.9)
    idx = torch.randint(0, 11, (7, 3))
    e = emb(idx)
    out1, (h1, c1) = lstm(e, (torch.randn(4, 3, 3), torch.randn(4, 3, 5)))
    out2, h2 = gru(out1.transpose(0, 1).contiguous())
    out3, h3 = rnn(out2.transpose(0, 1).contiguous(), torch.randn(1, 3, 4))
    a = cells[0](out3[-1])
    b, cb = cells[1](a)
    d = cells[2](b, torch.randn(3, 2))
    logits = head(d)
    loss = crit(logits, torch.randint(0, 5, (3,)))
    gd = head.backward(crit.backward())
    gb, _ = cells[2].backward(gd)
    ga, _, _ = cells[1].backward(gb, torch.zeros_like(cb))
    g3 = torch.zeros_like(out3)
    g3[-1] = cells[0].backward(ga)[0]
    g2, _ = rnn.backward(g3, torch.ones_like(h3))
    g1, _ = gru.backward(g2.transpose(0, 1), None)
    ge, gh0, gc0 = lstm.backward(g1.transpose(0, 1), None, torch.ones_like(c1))
    assert emb.backward(ge) is None
    opt.step()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in params)
    return [e, out1, h1, c1, out2, h2, out3, h3, a, b, cb, d, logits, loss, ge, gh0, gc0] + [p.data for p in params] + [
        p.grad for p in params]


def test_sequence_training_step_runs_under_inference_mode(monkeypatch):
    forbid_autograd(monkeypatch)
    with torch.inference_mode():
        tensors = sequence_step()
    assert all(t.is_inference() and not t.requires_grad for t in tensors)


def test_sequence_step_makes_no_tensor_that_requires_grad(monkeypatch):
    forbid_autograd(monkeypatch)
    tensors = sequence_step()
    assert not any(t.requires_grad or t.grad_fn is not None for t in tensors)
