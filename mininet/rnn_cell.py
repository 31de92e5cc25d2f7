"""Recurrent cells, one time step: RNNCell, LSTMCell, GRUCell."""

from __future__ import annotations

import torch

from . import _recurrence as rec
from .module import Module
from .parameter import Parameter
from .rnn import check_sizes, reset_uniform


class RNNCellBase(Module):
    """The machinery shared by the cells (torch's ``RNNCellBase``): one step of the layer's recurrence,
    run as a sequence of length 1 by the same code as :class:`~mininet.RNN`, :class:`~mininet.LSTM`,
    :class:`~mininet.GRU` (their docstrings give the equations of forward and backward).

    Multi-tensor convention (see :class:`Module`): ``RNNCell``/``GRUCell``: ``forward(input, hx=None) -> h'``,
    ``backward(grad_h) -> (grad_input, grad_hx)``; ``LSTMCell``: ``forward(input, (h, c)) -> (h', c')``,
    ``backward(grad_h, grad_c=None) -> (grad_input, grad_h, grad_c)``; a state's gradient is None when
    the state was not given. Replicas: input ``(R, B, input_size)``, states ``(R, B, hidden_size)``.
    """

    mode: str
    multi_tensor = True

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        check_sizes(input_size, hidden_size)
        self.mode = mode
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = rec.GATES[mode] * hidden_size
        opts = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(torch.empty((gates, input_size), **opts))
        self.weight_hh = Parameter(torch.empty((gates, hidden_size), **opts))
        if bias:
            self.bias_ih = Parameter(torch.empty(gates, **opts))
            self.bias_hh = Parameter(torch.empty(gates, **opts))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self._saved: tuple | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's init: U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every parameter, in order."""
        reset_uniform(self, self.hidden_size)

    def _step(self, x: torch.Tensor, states: tuple[torch.Tensor | None, ...]) -> tuple[torch.Tensor, torch.Tensor | None]:
        name = type(self).__name__
        batched_dims = 2 if self.replicas is None else 3
        allowed = (1, 2) if self.replicas is None else (3,)
        expected = "1D or 2D" if self.replicas is None else f"3D (R={self.replicas}, B, features)"
        if x.dim() not in allowed:
            raise ValueError(f"{name}: Expected input to be {expected}, got {x.dim()}D instead")
        for k, h in enumerate(states):
            if h is not None and h.dim() not in allowed:
                what = "hidden" if len(states) == 1 else f"hx[{k}]"
                raise ValueError(f"{name}: Expected {what} to be {expected}, got {h.dim()}D instead")
        batched = x.dim() == batched_dims
        if not batched:
            x = x.unsqueeze(0)
            states = tuple(None if h is None else h.unsqueeze(0) for h in states)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[-1]} expected {self.input_size}")
        given = states[0] is not None
        for k, h in enumerate(states):
            if h is None:
                continue
            if h.shape[-1] != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {h.shape[-1]}, "
                                   f"expected {self.hidden_size}")
            if h.shape[:-1] != x.shape[:-1]:
                raise RuntimeError(f"Input batch size {x.shape[-2]} doesn't match hidden{k} batch size "
                                   f"{h.shape[-2]}")
        zeros = torch.zeros((*x.shape[:-1], self.hidden_size), dtype=x.dtype, device=x.device)
        h0 = zeros if states[0] is None else states[0]
        c0 = None if self.mode != "LSTM" else (zeros if states[-1] is None else states[-1])
        w = rec.Weights(self.weight_ih.data, self.weight_hh.data, None if self.bias_ih is None else self.bias_ih.data,
                        None if self.bias_hh is None else self.bias_hh.data)
        _, h, c, saved = rec.scan(self.mode, x.unsqueeze(0), h0, c0, w)
        self._saved = (saved, batched, given)
        if not batched:
            h, c = h.squeeze(0), None if c is None else c.squeeze(0)
        return h, c

    def _step_grads(self, grad_h: torch.Tensor | None, grad_c: torch.Tensor | None):
        if self._saved is None:
            raise self._missing_forward()
        saved, batched, given = self._saved
        if not batched:
            grad_h = None if grad_h is None else grad_h.unsqueeze(0)
            grad_c = None if grad_c is None else grad_c.unsqueeze(0)
        gx, gh, gc, grads = rec.bptt(saved, None, grad_h, grad_c, self.replicas is not None)
        for p, g in ((self.weight_ih, grads.w_ih), (self.weight_hh, grads.w_hh),
                     (self.bias_ih, grads.b_ih), (self.bias_hh, grads.b_hh)):
            if p is not None:
                p.accumulate(g)
        gx = gx.squeeze(0)
        if not batched:
            gx, gh, gc = gx.squeeze(0), gh.squeeze(0), None if gc is None else gc.squeeze(0)
        return (gx, None, None) if not given else (gx, gh, gc)

    def free_saved(self) -> None:
        self._saved = None  # a Saved record, which Module.free_saved does not look into
        super().free_saved()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    r"""One step of an Elman RNN, as ``torch.nn.RNNCell``.

    Forward:  h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh),  act = tanh or relu
    Backward: d a = dh' * act'(a)  (tanh: 1 - h'^2; relu: [h' > 0]);
              dL/dx = d a W_ih, dL/dh = d a W_hh, dL/dW_ih += d a^T x, dL/dW_hh += d a^T h,
              dL/db_ih = dL/db_hh += sum of d a over the batch.

    Args:
        input_size, hidden_size: features of x and of h.
        bias: if ``False``, no b_ih, b_hh.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        device, dtype: of the parameters.

    Shape:
        - input: ``(B, input_size)`` or ``(input_size,)``; hx, h': ``(B, hidden_size)`` or ``(hidden_size,)``.
        - weight_ih: ``(hidden_size, input_size)``, weight_hh: ``(hidden_size, hidden_size)``,
          bias_ih, bias_hh: ``(hidden_size,)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, bias,
                         device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        return self._step(input, (hx,))[0]

    def backward(self, grad_output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self._step_grads(grad_output, None)[:2]


class LSTMCell(RNNCellBase):
    r"""One step of an LSTM, as ``torch.nn.LSTMCell`` (gate order i, f, g, o).

    Forward:  a = x W_ih^T + b_ih + h W_hh^T + b_hh = (a_i, a_f, a_g, a_o);
              i, f, o = sigmoid(a_i, a_f, a_o), g = tanh(a_g); c' = f * c + i * g; h' = o * tanh(c')
    Backward: dc = dc' + dh' * o * (1 - tanh(c')^2);
              d a = (dc * g * i (1 - i), dc * c * f (1 - f), dc * i * (1 - g^2), dh' * tanh(c') * o (1 - o));
              dL/dc = dc * f, dL/dh = d a W_hh, dL/dx = d a W_ih, dL/dW_ih += d a^T x,
              dL/dW_hh += d a^T h, dL/db_ih = dL/db_hh += sum of d a over the batch.

    Args:
        input_size, hidden_size, bias, device, dtype: as :class:`RNNCell`.

    Shape:
        - input: ``(B, input_size)`` or ``(input_size,)``; h, c, h', c': ``(B, hidden_size)`` or
          ``(hidden_size,)``.
        - weight_ih: ``(4 * hidden_size, input_size)``, weight_hh: ``(4 * hidden_size, hidden_size)``,
          biases ``(4 * hidden_size,)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input: torch.Tensor, hx: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        return self._step(input, (None, None) if hx is None else tuple(hx))

    def backward(self, grad_h: torch.Tensor | None, grad_c: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        return self._step_grads(grad_h, grad_c)


class GRUCell(RNNCellBase):
    r"""One step of a GRU, as ``torch.nn.GRUCell`` (gate order r, z, n).

    Forward:  (xr, xz, xn) = x W_ih^T + b_ih, (hr, hz, hn) = h W_hh^T + b_hh;
              r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r * hn), h' = (1 - z) * n + z * h
    Backward: d a_n = dh' (1 - z)(1 - n^2), d a_z = dh' (h - n) z (1 - z), d a_r = d a_n hn r (1 - r);
              input side d x = (d a_r, d a_z, d a_n), recurrent side d h = (d a_r, d a_z, d a_n * r);
              dL/dx = (d x) W_ih, dL/dh = dh' z + (d h) W_hh, dL/dW_ih += (d x)^T x, dL/dW_hh += (d h)^T h,
              dL/db_ih += sum of d x, dL/db_hh += sum of d h over the batch.

    Args:
        input_size, hidden_size, bias, device, dtype: as :class:`RNNCell`.

    Shape:
        as :class:`RNNCell`, with ``3 * hidden_size`` rows in every weight and bias.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        return self._step(input, (hx,))[0]

    def backward(self, grad_output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self._step_grads(grad_output, None)[:2]
