"""The parity check: one batch through both backends from the same weights, every number compared.

In float64: each layer's output, the loss, each layer's input gradient, every parameter gradient, and
every parameter after one optimizer step. This is what ``mininet check`` prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ..spec.experiment import Spec
from ..train.build import build_loss, build_model, build_optimizer
from ..train.loop import prepare
from ..train.metrics import loss_targets

TOLERANCE = 1e-9


#: the gates stacked in a recurrent layer's weight_ih/weight_hh/bias rows, in torch's order
GATES = {"LSTM": "ifgo", "GRU": "rzn"}
_STACKED = re.compile(r"(weight|bias)_(ih|hh)_l\d+(_reverse)?")


@dataclass
class Row:
    quantity: str
    max_abs: float
    max_rel: float
    layer: int | None = None  # the top-level layer a gradient row belongs to (None: not a gradient)

    @property
    def ok(self) -> bool:
        return self.max_abs <= TOLERANCE or self.max_rel <= TOLERANCE


def _row(name: str, a: torch.Tensor, b: torch.Tensor) -> Row:
    a, b = a.detach().to(torch.float64), b.detach().to(torch.float64)
    diff = (a - b).abs()
    if not torch.isfinite(a).all() or not torch.isfinite(b).all():
        same = torch.equal(a, b) or bool(((a == b) | (a.isnan() & b.isnan())).all())
        return Row(name, 0.0 if same else float("inf"), 0.0 if same else float("inf"))
    max_abs = diff.max().item() if diff.numel() else 0.0
    scale = b.abs().max().item() if b.numel() else 0.0
    return Row(name, max_abs, max_abs / scale if scale > 0 else max_abs)


def _grad_rows(name: str, a: torch.Tensor, b: torch.Tensor, model) -> list[Row]:
    """A parameter's gradient row; a recurrent layer's stacked gate weights get one row per gate
    (``gate f``), so that a broken gate's backward is named."""
    owner, leaf = name.rsplit(".", 1)
    gates = GATES.get(getattr(model.get_submodule(owner), "mode", None))
    if gates is None or not _STACKED.fullmatch(leaf):
        parts = [(f"{name} grad", a, b)]
    else:
        parts = [(f"{name} grad (gate {gate})", ga, gb) for gate, ga, gb in zip(gates, a.chunk(len(gates)),
                                                                                  b.chunk(len(gates)))]
    return [replace(_row(*part), layer=int(name.split(".")[0])) for part in parts]


def first_wrong_gradient(rows: list[Row]) -> Row | None:
    """The wrong gradient nearest the loss, where backward goes wrong first: in that layer, its first
    wrong parameter gradient, else the gradient it hands back."""
    wrong = [r for r in rows if r.layer is not None and not r.ok]
    if not wrong:
        return None
    in_last = [r for r in wrong if r.layer == max(r.layer for r in wrong)]
    return next((r for r in in_last if "grad input" not in r.quantity), in_last[0])


def parity(spec: Spec, base_dir: Path = Path(".")) -> list[Row]:
    """Compare mininet against torch autograd on the first batch of repetition 0, in float64."""
    spec = spec.model_copy(update={"dtype": "float64", "repetitions": 1})
    spec, (rep,) = prepare(spec, base_dir)
    data = rep.data
    order = next(rep.orders(1, spec.train.shuffle))[: spec.train.batch_size].to(data.x_train.device)
    x = data.x_train[order]
    target = loss_targets(spec.loss.type, data.y_train[order], data.n_classes, torch.float64)

    mm, tm = build_model("mininet", spec), build_model("torch", spec)
    mm.load_state_dict(rep.initial_state)
    tm.load_state_dict(rep.initial_state)
    m_loss_fn, t_loss_fn = build_loss("mininet", spec), build_loss("torch", spec)
    names = [f"layer {i} ({type(m).__name__})" for i, m in enumerate(mm)]
    rows: list[Row] = []

    # forward, layer by layer; the same global seed makes dropout draw the same masks
    torch.manual_seed(rep.dropout_seed)
    with torch.inference_mode():
        m_outs, h = [], x
        for module in mm:
            h = module(h)
            m_outs.append(h)
        m_loss = m_loss_fn(h, target)
    torch.manual_seed(rep.dropout_seed)
    tokens = not x.is_floating_point()  # token indices: no gradient reaches the input
    t_in = x if tokens else x.clone().requires_grad_(True)
    t_outs, h = [], t_in
    for module in tm:
        h = module(h)
        h.retain_grad()
        t_outs.append(h)
    t_loss = t_loss_fn(h, target)
    rows += [_row(f"{n} output", a, b) for n, a, b in zip(names, m_outs, t_outs)]
    rows.append(_row("loss", m_loss, t_loss))

    # backward, layer by layer: the gradient each layer hands to the one before it
    t_loss.backward()
    t_grad_in = [t_in.grad] + [o.grad for o in t_outs[:-1]]
    with torch.inference_mode():
        g = m_loss_fn.backward()
        m_grad_in = []
        for module in reversed(list(mm)):
            g = module.backward(g)
            m_grad_in.append(g)
    m_grad_in.reverse()
    rows += [replace(_row(f"{n} grad input", a, b), layer=i)
             for i, (n, a, b) in enumerate(zip(names, m_grad_in, t_grad_in)) if b is not None]
    t_params = dict(tm.named_parameters())
    m_params = dict(mm.named_parameters())
    rows += [r for k in t_params for r in _grad_rows(k, m_params[k].grad, t_params[k].grad, tm)]

    # one optimizer step
    m_opt = build_optimizer("mininet", spec, list(mm.parameters()))
    t_opt = build_optimizer("torch", spec, tm.parameters())
    with torch.inference_mode():
        m_opt.step()
    t_opt.step()
    rows += [_row(f"{k} after step", m_params[k].data, t_params[k]) for k in t_params]
    return rows
