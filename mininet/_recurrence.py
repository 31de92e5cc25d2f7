"""One direction of one recurrent layer over a whole sequence, forward and backward through time.

Shared by the layers (``RNN``, ``LSTM``, ``GRU``: one scan per layer and direction) and the cells
(``RNNCell``, ``LSTMCell``, ``GRUCell``: a scan of one step). Tensors are time-major,
``(T, *lead, features)`` with ``lead`` = ``(B,)``, or ``(R, B)`` for replicated weights (a leading
replica dimension ``R`` on every weight).

The work is arranged for speed on small batches: the input projection of all time steps is one
matrix product before the loop, each step runs one ``addmm`` for the recurrent part and its activations
on slices of one gate buffer, and backward accumulates every weight gradient with one product over all
time steps after the loop. Time runs in processing order inside (a reverse direction flips its
projected input and its outputs).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


@dataclass
class Lookup:
    """An input given as rows of a table, ``x[t, b] = table[index[t, b]]`` (an Embedding's output).

    With fewer rows than time steps times samples, products with x go through the table instead:
    ``x W^T = (table W^T)[index]``, and backward's ``sum_j g_j^T x_j = S^T table`` with ``S[k] = sum of
    g_j over the j with index j = k``, its gradient of the table ``S W`` (of x it would be ``g W``,
    then summed the same way). The same sums, with far fewer multiplications."""

    table: torch.Tensor  # (V, in)
    index: torch.Tensor  # (T, *lead) integers

    def flip(self, dim: int) -> Lookup:
        return Lookup(self.table, self.index.flip(dim))

    def row_sums(self, g: torch.Tensor) -> torch.Tensor:
        """``S``: the rows of ``g`` (``(T, *lead, G)``) summed by the table row they came from."""
        S = torch.zeros((self.table.shape[0], g.shape[-1]), dtype=g.dtype, device=g.device)
        return S.index_add_(0, self.index.reshape(-1), g.reshape(-1, g.shape[-1]))


@dataclass
class Weights:
    """The parameters of one layer and direction (``None`` where the layer has none)."""

    w_ih: torch.Tensor
    w_hh: torch.Tensor
    b_ih: torch.Tensor | None
    b_hh: torch.Tensor | None
    w_hr: torch.Tensor | None = None


@dataclass
class Grads:
    w_ih: torch.Tensor
    w_hh: torch.Tensor
    b_ih: torch.Tensor | None
    b_hh: torch.Tensor | None
    w_hr: torch.Tensor | None


class Workspace:
    """Buffers that one layer and direction keeps between calls (never handed to the caller).

    A fresh multi-megabyte tensor costs a page fault per 4 KiB on its first write, which in the step
    loop costs as much as the arithmetic; reusing the same memory every training step avoids it.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, torch.Tensor] = {}

    def clear(self) -> None:
        self._buffers.clear()

    def get(self, key: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        buf = self._buffers.get(key)
        if buf is None or tuple(buf.shape) != tuple(shape) or buf.dtype != like.dtype or buf.device != like.device:
            buf = self._buffers[key] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return buf


# ---------------------------------------------------------------- products with 2-D or replicated weights
def _step_mm(add: torch.Tensor | None, h: torch.Tensor, w: torch.Tensor, out: torch.Tensor | None = None,
             transpose: bool = True) -> torch.Tensor:
    """``add + h @ w^T`` (``h @ w`` with ``transpose=False``) for one step: ``addmm`` for a 2-D weight,
    ``baddbmm`` for replicated weights ``(R, ., .)`` and ``h`` of shape ``(R, B, .)``."""
    if w.dim() == 2:
        wt = w.t() if transpose else w
        if add is None:
            return torch.mm(h, wt, out=out)
        return torch.addmm(add, h, wt, out=out)
    wt = w.transpose(1, 2) if transpose else w
    if add is None:
        return torch.bmm(h, wt, out=out)
    return torch.baddbmm(add, h, wt, out=out)


def _project(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, ws: Workspace) -> torch.Tensor:
    """``x @ w^T + b`` for every time step at once: ``x`` is ``(T, *lead, in)``, or a :class:`Lookup`."""
    if isinstance(x, Lookup):
        rows = x.table @ w.t() if b is None else torch.addmm(b, x.table, w.t())
        out = ws.get("xw", (x.index.numel(), w.shape[0]), rows)
        return torch.index_select(rows, 0, x.index.reshape(-1), out=out).view(*x.index.shape, w.shape[0])
    if w.dim() == 2:
        x2 = x.reshape(-1, x.shape[-1])
        out = ws.get("xw", (x2.shape[0], w.shape[0]), x)
        y = torch.mm(x2, w.t(), out=out) if b is None else torch.addmm(b, x2, w.t(), out=out)
        return y.view(*x.shape[:-1], w.shape[0])
    # replicated: (T, R, B, in) -> (R, T*B, in), one batched product, back to (T, R, B, out)
    T, R = x.shape[0], x.shape[1]
    xr = x.transpose(0, 1).reshape(R, -1, x.shape[-1])
    wt = w.transpose(1, 2)
    y = torch.bmm(xr, wt) if b is None else torch.baddbmm(b.unsqueeze(1), xr, wt)
    return y.view(R, T, -1, w.shape[1]).transpose(0, 1)


def _row(b: torch.Tensor) -> torch.Tensor:
    """A bias as a row that broadcasts over the samples: ``(G,)``, or ``(R, 1, G)`` when replicated."""
    return b if b.dim() == 1 else b.unsqueeze(-2)


def _by_replica(t: torch.Tensor) -> torch.Tensor:
    """``(T, R, B, f)`` -> ``(R, T*B, f)``: the rows of each replica together."""
    return t.transpose(0, 1).reshape(t.shape[1], -1, t.shape[-1])


def _weight_grad(g: torch.Tensor, x: torch.Tensor, replicated: bool, transposed: bool = False) -> torch.Tensor:
    """sum over every time step and sample of ``g^T x``: ``(out, in)``, or ``(R, out, in)``.
    ``transposed``: computed as ``(x^T g)^T`` (a transposed view; the faster operand order for MKL
    when out is the wider side), for a caller that copies it anyway. ``x`` a :class:`Lookup`: ``g`` is
    its row sums ``S``."""
    if isinstance(x, Lookup):
        return torch.mm(g.t(), x.table)
    if not replicated:
        if transposed:
            return torch.mm(x.reshape(-1, x.shape[-1]).t(), g.reshape(-1, g.shape[-1])).t()
        return torch.mm(g.reshape(-1, g.shape[-1]).t(), x.reshape(-1, x.shape[-1]))
    return torch.bmm(_by_replica(g).transpose(1, 2), _by_replica(x))


def _bias_grad(g: torch.Tensor, replicated: bool) -> torch.Tensor:
    """sum of ``g`` over every time step and sample (or over the rows of a Lookup's row sums)."""
    return _by_replica(g).sum(1) if replicated else g.reshape(-1, g.shape[-1]).sum(0)


def _input_grad(g: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``g @ w`` for every time step: ``(T, *lead, out)`` -> ``(T, *lead, in)``."""
    if w.dim() == 2:
        return torch.mm(g.reshape(-1, g.shape[-1]), w).view(*g.shape[:-1], w.shape[1])
    return torch.matmul(g, w.unsqueeze(0))  # (T, R, B, out) @ (1, R, out, in)


# ---------------------------------------------------------------- the scan
@dataclass
class Saved:
    """What forward keeps for backward (processing order; index 0 of the state buffers is h0/c0)."""

    mode: str
    reverse: bool
    ws: Workspace
    w: Weights  # the layer's weights
    x: torch.Tensor | Lookup  # (T, *lead, in), processing order (a reverse direction's flipped)
    acts: torch.Tensor  # (T, *lead, G*H): activated gates (RNN: unused)
    hs: torch.Tensor  # (T+1, *lead, Hr): h0, h_1, ..., h_T
    cs: torch.Tensor | None = None  # LSTM: (T+1, *lead, H)
    tanh_c: torch.Tensor | None = None  # LSTM: (T, *lead, H)
    h_raw: torch.Tensor | None = None  # LSTM with projection: o * tanh(c) before W_hr, (T, *lead, H)
    hh_n: torch.Tensor | None = None  # GRU: W_hn h + b_hn, (T, *lead, H)


def scan(mode: str, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor | None, w: Weights,
         reverse: bool = False, ws: Workspace | None = None, keep: bool = True
         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, Saved | None]:
    """Run one direction over ``x`` (``(T, *lead, in)``): returns the outputs ``(T, *lead, Hr)`` in
    time order, h_n, c_n (LSTM, else None) and what backward needs. ``ws``: the buffers to reuse.
    ``keep=False`` (LSTM): keep nothing for backward (None instead of it), see :func:`_lstm_lean`.
    ``x`` may be a :class:`Lookup` (2-D weights, ``keep``); backward then gives its table's gradient."""
    ws = Workspace() if ws is None else ws
    if reverse:
        x = x.flip(0)
    T = x.index.shape[0] if isinstance(x, Lookup) else x.shape[0]
    lead = tuple(h0.shape[:-1])
    H = w.w_hh.shape[-2] // GATES[mode]
    # x W_ih^T + b_ih for all steps at once; LSTM and RNN add b_hh here too (GRU keeps b_hn apart)
    bias = w.b_ih
    if w.b_hh is not None and mode != "GRU":
        bias = w.b_ih + w.b_hh
    w_ih, w_hh = w.w_ih, w.w_hh
    if mode == "LSTM":
        # tanh(a) = 2 sigmoid(2 a) - 1, and torch's tanh is several times slower than its sigmoid: the
        # cell gate's rows, doubled (exactly), join the other gates in one sigmoid per step
        w_ih, w_hh, bias = (None if t is None else _double_cell_rows(t, H, dim) for t, dim in
                            ((w_ih, -2), (w_hh, -2), (bias, -1)))
    if mode == "LSTM" and not keep:
        return _lstm_lean(x, h0, c0, w_ih, w_hh, bias, w.w_hr, H, reverse)
    if not isinstance(x, Lookup) and w_ih.dim() == 2 and not x.is_contiguous():
        x = x.contiguous()  # one copy (the projection's reshape made it anyway), kept for W_ih's gradient
    xw = _project(x, w_ih, bias, ws)
    opts = {"dtype": xw.dtype, "device": xw.device}
    hs = torch.empty((T + 1, *lead, h0.shape[-1]), **opts)
    hs[0] = h0
    saved = Saved(mode, reverse, ws, w, x, xw, hs)
    if mode == "LSTM":
        _lstm_scan(xw, w_hh, w.w_hr, H, saved, c0)
    elif mode == "GRU":
        saved.acts = torch.empty_like(xw)
        _gru_scan(xw, w, H, saved)
    else:
        tanh = mode == "RNN_TANH"
        for s in range(T):
            h = _step_mm(xw[s], hs[s], w.w_hh, out=hs[s + 1])
            h.tanh_() if tanh else h.relu_()
    out = hs[1:].flip(0) if reverse else hs[1:]
    c_n = None if saved.cs is None else saved.cs[T].clone()  # cs is a reused buffer
    return out, hs[T], c_n, saved


def _double_cell_rows(t: torch.Tensor, H: int, dim: int) -> torch.Tensor:
    """A copy with the cell gate's rows (the third of torch's i, f, g, o) doubled."""
    t = t.clone()
    t.narrow(dim, 2 * H, H).mul_(2)
    return t


def _tanh_from_doubled(t: torch.Tensor, ones: torch.Tensor) -> torch.Tensor:
    """In place: ``sigmoid(t)`` -> ``tanh(t / 2) = 2 sigmoid(t) - 1`` (tensor operands: no scalar to wrap)."""
    return t.add_(t).sub_(ones)


def _lstm_step(step, gates: torch.Tensor, h: torch.Tensor, w_hh_t: torch.Tensor, ifgo: tuple, c: torch.Tensor,
               c_next: torch.Tensor, tc: torch.Tensor, ones: torch.Tensor, h_next: torch.Tensor) -> None:
    """One step on the gate buffer ``gates`` (holding x W_ih^T + b, the cell gate doubled), in place:
    the gates activated, c' = f * c + i * g, tanh(c') into ``tc``, o * tanh(c') into ``h_next``. Every
    tanh as 2 sigmoid(2 a) - 1: torch's tanh costs twice its sigmoid, and runs threads even on one step."""
    i, f, g, o = ifgo
    step(gates, h, w_hh_t).sigmoid_()
    _tanh_from_doubled(g, ones)
    torch.mul(f, c, out=c_next).addcmul_(i, g)
    _tanh_from_doubled(torch.add(c_next, c_next, out=tc).sigmoid_(), ones)
    torch.mul(o, tc, out=h_next)


def _lstm_scan(xw: torch.Tensor, w_hh: torch.Tensor, w_hr: torch.Tensor | None, H: int, saved: Saved,
               c0: torch.Tensor) -> None:
    """Gates in torch's order (i, f, g, o), activated in place in ``xw``, which becomes ``saved.acts``;
    ``w_hh`` (and xw) hold the cell gate doubled."""
    T, hs = xw.shape[0], saved.hs
    shape = (T, *xw.shape[1:-1], H)
    cs = saved.ws.get("cs", (T + 1, *shape[1:]), xw)
    cs[0] = c0
    tanh_c = saved.ws.get("tanh_c", shape, xw)
    h_raw = None if w_hr is None else torch.empty(shape, dtype=xw.dtype, device=xw.device)
    ones = torch.ones(shape[1:], dtype=xw.dtype, device=xw.device)
    w_hh_t = w_hh.transpose(-1, -2)
    step = torch.Tensor.addmm_ if xw.dim() == 3 else torch.Tensor.baddbmm_
    # every step's views made at once (unbind): the loop's Python overhead is in the per-step slicing
    gates_ = xw.unbind(0)
    ifgo_ = list(zip(*(xw[..., k * H:(k + 1) * H].unbind(0) for k in range(4))))
    hs_, cs_, tc_ = hs.unbind(0), cs.unbind(0), tanh_c.unbind(0)
    raw_ = None if h_raw is None else h_raw.unbind(0)
    for s in range(T):
        h_next = hs_[s + 1] if raw_ is None else raw_[s]
        _lstm_step(step, gates_[s], hs_[s], w_hh_t, ifgo_[s], cs_[s], cs_[s + 1], tc_[s], ones, h_next)
        if raw_ is not None:
            _step_mm(None, raw_[s], w_hr, out=hs_[s + 1])
    saved.cs, saved.tanh_c, saved.h_raw = cs, tanh_c, h_raw


def _lstm_lean(x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
               bias: torch.Tensor | None, w_hr: torch.Tensor | None, H: int, reverse: bool):
    """The LSTM forward alone (evaluation of a large set): the same gate arithmetic as
    :func:`_lstm_scan`, but each step projects its own input into one gate buffer, and c, tanh(c) live
    in per-step buffers, so a batch of thousands needs no (T, B, 4H) buffer of fresh memory (its page
    faults cost as much as the arithmetic); nothing is kept for backward."""
    T, lead = x.shape[0], tuple(h0.shape[:-1])
    opts = {"dtype": x.dtype, "device": x.device}
    hs = torch.empty((T + 1, *lead, h0.shape[-1]), **opts)
    hs[0] = h0
    gates = torch.empty((*lead, 4 * H), **opts)
    c, c_next, tc = c0.clone(), torch.empty((*lead, H), **opts), torch.empty((*lead, H), **opts)
    raw = None if w_hr is None else torch.empty((*lead, H), **opts)
    ones = torch.ones((*lead, H), **opts)
    b = None if bias is None else _row(bias)
    w_hh_t = w_hh.transpose(-1, -2)
    step = torch.Tensor.addmm_ if x.dim() == 3 else torch.Tensor.baddbmm_
    ifgo = tuple(gates[..., k * H:(k + 1) * H] for k in range(4))
    hs_ = hs.unbind(0)
    for s in range(T):
        _step_mm(b, x[s], w_ih, out=gates)
        _lstm_step(step, gates, hs_[s], w_hh_t, ifgo, c, c_next, tc, ones, hs_[s + 1] if raw is None else raw)
        c, c_next = c_next, c
        if raw is not None:
            _step_mm(None, raw, w_hr, out=hs_[s + 1])
    out = hs[1:].flip(0) if reverse else hs[1:]
    return out, hs[T], c, None


def _gru_scan(xw: torch.Tensor, w: Weights, H: int, saved: Saved) -> None:
    T, hs, acts = xw.shape[0], saved.hs, saved.acts
    hh_n = torch.empty((T, *acts.shape[1:-1], H), dtype=xw.dtype, device=xw.device)
    for s in range(T):
        hg = _step_mm(None if w.b_hh is None else _row(w.b_hh), hs[s], w.w_hh)  # W_hh h + b_hh, split (r, z, n)
        a = acts[s]
        torch.add(xw[s][..., : 2 * H], hg[..., : 2 * H], out=a[..., : 2 * H]).sigmoid_()  # r, z
        hh_n[s] = hg[..., 2 * H:]
        r, z, n = a[..., :H], a[..., H: 2 * H], a[..., 2 * H:]
        torch.addcmul(xw[s][..., 2 * H:], r, hh_n[s], out=n).tanh_()  # n = tanh(x_n + r * (W_hn h + b_hn))
        # h' = (1 - z) * n + z * h = (h - n) * z + n
        torch.sub(hs[s], n, out=hs[s + 1]).mul_(z).add_(n)
    saved.hh_n = hh_n


def _dh_before(grad_out: torch.Tensor | None, s: int, d_gates: torch.Tensor, w_hh: torch.Tensor) -> torch.Tensor:
    """dL/dh_{s-1} = (d a_s) W_hh + dL/d output_{s-1}: one addmm."""
    add = None if grad_out is None or s == 0 else grad_out[s - 1]
    return _step_mm(add, d_gates, w_hh, transpose=False)


def bptt(saved: Saved, grad_out: torch.Tensor | None, grad_hn: torch.Tensor | None,
         grad_cn: torch.Tensor | None, replicated: bool
         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, Grads]:
    """Backward through time: the gradients of x (time order), h0, c0 (LSTM) and of the weights, from
    the gradients of the outputs (time order; None: zero) and of h_n, c_n (None: zero)."""
    mode, hs, w = saved.mode, saved.hs, saved.w
    T = hs.shape[0] - 1
    if grad_out is not None and saved.reverse:
        grad_out = grad_out.flip(0)
    dh = torch.zeros_like(hs[0]) if grad_hn is None else grad_hn
    grad_hr = None
    dc = None
    if mode == "GRU":
        d_gates, d_hgates, dh = _gru_bptt(saved, grad_out, dh)
    elif mode == "LSTM":
        d_gates, dh, dc, grad_hr = _lstm_bptt(saved, grad_out, dh, grad_cn, replicated)
        d_hgates = d_gates
    else:
        if grad_out is not None:
            dh = dh + grad_out[T - 1]  # the loop below adds dL/d output_{s-1} with each step's product
        d_gates = torch.empty_like(saved.hs[1:])
        # the activation's derivative at every step at once, from the outputs: 1 - h'^2, or [h' > 0]
        slope = (hs[1:] > 0).to(hs.dtype) if mode == "RNN_RELU" else 1 - hs[1:] * hs[1:]
        for s in range(T - 1, -1, -1):
            torch.mul(dh, slope[s], out=d_gates[s])
            dh = _dh_before(grad_out, s, d_gates[s], w.w_hh)
        d_hgates = d_gates
    # every weight gradient: one product over all time steps (an input from a table: over its rows)
    lookup = isinstance(saved.x, Lookup)
    dx_gates = saved.x.row_sums(d_gates) if lookup else d_gates
    b_ih = None if w.b_ih is None else _bias_grad(dx_gates, replicated)
    if w.b_hh is None:
        b_hh = None
    else:  # the same gradient as b_ih's, but for GRU's
        b_hh = _bias_grad(d_hgates, replicated) if mode == "GRU" else b_ih.clone()
    grads = Grads(_weight_grad(dx_gates, saved.x, replicated), _weight_grad(d_hgates, hs[:-1], replicated),
                  b_ih, b_hh, grad_hr)
    grad_x = torch.mm(dx_gates, w.w_ih) if lookup else _input_grad(dx_gates, w.w_ih)
    if saved.reverse and not lookup:
        grad_x = grad_x.flip(0)  # back to time order
    return grad_x, dh, dc, grads


def _lstm_bptt(saved: Saved, grad_out: torch.Tensor | None, dh: torch.Tensor, grad_cn: torch.Tensor | None,
               replicated: bool):
    acts, cs, tanh_c, h_raw, w = saved.acts, saved.cs, saved.tanh_c, saved.h_raw, saved.w
    T = acts.shape[0]
    H = cs.shape[-1]
    lead = acts.shape[1:-1]
    i, f, g, o = (acts[..., k * H:(k + 1) * H] for k in range(4))
    # Every step's local derivatives at once (vectorised over time), so the loop is short:
    #   h = o * tanh(c): dc += dh * o * (1 - tanh(c)^2), d a_o = dh * tanh(c) * o (1 - o)
    #   c = f * c_prev + i * g: d a_i = dc * g * i (1 - i), d a_f = dc * c_prev * f (1 - f),
    #                           d a_g = dc * i * (1 - g^2), dc_prev = dc * f
    # the gates that dc drives, i, f, g, are one slice (torch's order); o is the last
    ws = saved.ws
    sig = acts[..., : 2 * H]
    slope = torch.addcmul(sig, sig, sig, value=-1, out=ws.get("slope", sig.shape, acts))  # s (1 - s) of i, f
    coef = ws.get("coef", acts.shape, acts)
    torch.mul(slope[..., :H], g, out=coef[..., :H])
    torch.mul(slope[..., H:], cs[:-1], out=coef[..., H: 2 * H])
    tmp = torch.mul(i, g, out=ws.get("tmp", tanh_c.shape, acts))
    torch.addcmul(i, tmp, g, value=-1, out=coef[..., 2 * H: 3 * H])
    torch.addcmul(o, o, o, value=-1, out=tmp)
    torch.mul(tmp, tanh_c, out=coef[..., 3 * H:])
    torch.mul(o, tanh_c, out=tmp)
    dc_from_dh = torch.addcmul(o, tmp, tanh_c, value=-1, out=ws.get("dc_from_dh", tanh_c.shape, acts))
    coef_cell = coef[..., : 3 * H].unflatten(-1, (3, H))
    d_gates = ws.get("d_gates", acts.shape, acts)
    d_cell = d_gates[..., : 3 * H].unflatten(-1, (3, H))
    # dL/dh_t of every step in one contiguous time-major buffer, seeded with dL/d output_t (+ dL/dh_n at
    # the last step): each step's product then adds into the previous step's row in place (addmm_, no
    # copy of a strided slice of grad_out, no fresh tensor), and with a projection it is W_hr's gradient
    dhs = ws.get("dhs", saved.hs[1:].shape, acts)
    if grad_out is None:
        dhs.zero_()
    else:
        dhs.copy_(grad_out)
    dhs[T - 1] += dh
    dc = torch.zeros(*lead, H, dtype=acts.dtype, device=acts.device) if grad_cn is None else grad_cn.clone()
    dcf_, co_, cc_, f_ = dc_from_dh.unbind(0), coef[..., 3 * H:].unbind(0), coef_cell.unbind(0), f.unbind(0)
    dg_, do_, dcell_ = d_gates.unbind(0), d_gates[..., 3 * H:].unbind(0), d_cell.unbind(0)
    dh_ = dhs.unbind(0)
    addmm_ = torch.Tensor.addmm_ if acts.dim() == 3 else torch.Tensor.baddbmm_
    w_hh = w.w_hh
    for s in range(T - 1, -1, -1):
        dh = dh_[s]
        if h_raw is not None:
            dh = _step_mm(None, dh, w.w_hr, transpose=False)  # through h = W_hr h_raw
        dc.addcmul_(dh, dcf_[s])
        torch.mul(dh, co_[s], out=do_[s])
        torch.mul(dc.unsqueeze(-2), cc_[s], out=dcell_[s])
        dc.mul_(f_[s])
        # dL/dh_{s-1} = (d a_s) W_hh + dL/d output_{s-1}
        if s > 0:
            addmm_(dh_[s - 1], dg_[s], w_hh)
    dh = _step_mm(None, dg_[0], w_hh, transpose=False)
    d_hs = None if h_raw is None else dhs
    grad_hr = None if d_hs is None else _weight_grad(d_hs, h_raw, replicated)
    return d_gates, dh, dc, grad_hr


def _gru_bptt(saved: Saved, grad_out: torch.Tensor | None, dh: torch.Tensor):
    acts, hs, hh_n, w = saved.acts, saved.hs, saved.hh_n, saved.w
    T = acts.shape[0]
    H = hh_n.shape[-1]
    r, z, n = acts[..., :H], acts[..., H: 2 * H], acts[..., 2 * H:]
    # h' = (1 - z) n + z h, n = tanh(a_n), a_n = x_n + r * hh_n, r = sigmoid(a_r), z = sigmoid(a_z):
    #   d a_n = dh' (1 - z)(1 - n^2), d a_z = dh' (h - n) z (1 - z), d a_r = d a_n hh_n r (1 - r)
    #   the recurrent side sees d a_n * r for its n rows; dh = dh' z + (d hidden gates) W_hh
    coef_n = (1 - z) * (1 - n * n)
    coef_z = (hs[:-1] - n) * z * (1 - z)
    coef_r = hh_n * r * (1 - r)
    d_gates = torch.empty_like(acts)  # input side (r, z, n)
    d_hgates = torch.empty_like(acts)  # recurrent side
    for s in range(T - 1, -1, -1):
        if grad_out is not None:
            dh = dh + grad_out[s]
        dg, dhg = d_gates[s], d_hgates[s]
        torch.mul(dh, coef_n[s], out=dg[..., 2 * H:])
        torch.mul(dh, coef_z[s], out=dg[..., H: 2 * H])
        torch.mul(dg[..., 2 * H:], coef_r[s], out=dg[..., :H])
        dhg[..., : 2 * H] = dg[..., : 2 * H]
        torch.mul(dg[..., 2 * H:], r[s], out=dhg[..., 2 * H:])
        dh = _step_mm(dh * z[s], dhg, w.w_hh, transpose=False)
    return d_gates, d_hgates, dh
