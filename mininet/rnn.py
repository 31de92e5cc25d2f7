"""Recurrent layers over whole sequences: RNN, LSTM, GRU (several layers, both directions)."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import torch

from . import _recurrence as rec
from . import init
from .embedding import Embedding, TableGrad
from .module import Module
from .parameter import Parameter

# parameter name (without its _l{k}[_reverse] suffix) -> field of rec.Weights / rec.Grads
_FIELD = {"weight_ih": "w_ih", "weight_hh": "w_hh", "bias_ih": "b_ih", "bias_hh": "b_hh", "weight_hr": "w_hr"}


def check_sizes(input_size: Any, hidden_size: Any) -> None:
    """torch's checks of the sizes every recurrent layer and cell takes."""
    if not isinstance(input_size, int):
        raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")


def reset_uniform(module: Module, hidden_size: int) -> None:
    """torch's init of every recurrent layer and cell: U(-1/sqrt(hidden), 1/sqrt(hidden)) for each
    parameter, drawn in registration order (so the same seed gives torch's numbers)."""
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for p in module.parameters():
        init.uniform_(p.data, -stdv, stdv)


class RNNBase(Module):
    r"""The machinery shared by :class:`RNN`, :class:`LSTM` and :class:`GRU` (torch's ``RNNBase``).

    Each layer ``l`` and direction runs its recurrence over the sequence (the cell equations are in
    each subclass); layer ``l > 0`` reads the outputs of layer ``l - 1`` (both directions concatenated),
    through dropout in training when ``dropout > 0``. The reverse direction reads the sequence from its
    end; its output at time t sits in the second half of the features of ``output[t]``.

    Backward through time (BPTT), for each layer from the last one down and each direction: with
    dh_t = dL/d output_t + (the gradient flowing back from step t+1), step t turns dh_t (and dc_t) into
    the gradients of its gate pre-activations d a_t, and passes dh_{t-1} = (d a_t) W_hh (+ GRU's and
    LSTM's direct terms) back; after the loop
    dL/dW_ih += sum_t d a_t^T x_t, dL/dW_hh += sum_t d a_t^T h_{t-1}, dL/db_ih += sum_t d a_t (and
    b_hh with the recurrent side's d a_t), dL/dx_t = d a_t W_ih. What reaches h_0 (c_0) is dL/dh_0.
    The gradient of layer l's input is the gradient of layer l-1's output (times the dropout mask).

    Multi-tensor convention (see :class:`Module`): ``backward`` takes one gradient per tensor of
    forward's result, ``(grad_output, grad_h_n)`` or, for LSTM, ``(grad_output, grad_h_n, grad_c_n)``,
    each may be None (zero); it returns ``(grad_input, grad_h0)`` (LSTM: ``(grad_input, grad_h0,
    grad_c0)``), with None for a state that was not given.

    Replicas: after ``replicate(R)`` inputs are ``(R, T, B, input_size)`` (``(R, B, T, input_size)``
    with ``batch_first``), states ``(R, D * num_layers, B, H)``; unbatched inputs are not supported.
    """

    mode: str
    multi_tensor = True

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        check_sizes(input_size, hidden_size)
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate_size = rec.GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        opts = {"device": device, "dtype": dtype}
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                names = [f"weight_ih{suffix}", f"weight_hh{suffix}"]
                shapes = [(gate_size, layer_input), (gate_size, real_hidden)]
                if bias:  # torch's registration order: w_ih, w_hh, b_ih, b_hh, w_hr
                    names += [f"bias_ih{suffix}", f"bias_hh{suffix}"]
                    shapes += [(gate_size,), (gate_size,)]
                if proj_size > 0:
                    names.append(f"weight_hr{suffix}")
                    shapes.append((proj_size, hidden_size))
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(torch.empty(shape, **opts)))
                self._all_weights.append(names)
        self._saved: list | None = None
        # an Embedding whose outputs this layer may take as rows of its table (see take_rows_of)
        object.__setattr__(self, "_table_source", None)
        # per layer and direction: the scan's buffers, reused from call to call
        self._workspaces = [rec.Workspace() for _ in range(num_layers * directions)]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's init: U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every parameter, in order."""
        reset_uniform(self, self.hidden_size)

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _real_hidden(self) -> int:
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def _weights(self, index: int) -> rec.Weights:
        """The parameters of layer ``index // D``, direction ``index % D``."""
        fields = {_FIELD[name.split("_l")[0]]: getattr(self, name).data for name in self._all_weights[index]}
        return rec.Weights(**{"b_ih": None, "b_hh": None, **fields})

    # ------------------------------------------------------------------ layouts
    def _time_major(self, x: torch.Tensor) -> torch.Tensor:
        """The user's layout -> ``(T, *lead, features)``."""
        if self.replicas is None:
            return x.transpose(0, 1) if self.batch_first else x
        return x.permute(2, 0, 1, 3) if self.batch_first else x.transpose(0, 1)

    def _user_layout(self, y: torch.Tensor) -> torch.Tensor:
        if self.replicas is None:
            return y.transpose(0, 1) if self.batch_first else y
        return y.permute(1, 2, 0, 3) if self.batch_first else y.transpose(0, 1)

    def _states_in(self, h: torch.Tensor) -> torch.Tensor:
        # (R, L*D, B, H) -> (L*D, R, B, H): one index per layer and direction
        return h if self.replicas is None else h.transpose(0, 1)

    _states_out = _states_in

    def _check_input(self, x: torch.Tensor) -> bool:
        """Check the input's shape and dtype; returns whether it is batched."""
        name = "LSTM" if self.mode == "LSTM" else "GRU" if self.mode == "GRU" else "RNN"
        w = self.weight_ih_l0.data
        if x.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype ({w.dtype}). Convert input: "
                             f"input.to({w.dtype}), or convert model: model.to({x.dtype})")
        if self.replicas is not None:
            if x.dim() != 4 or x.shape[0] != self.replicas:
                layout = "(R, B, T, input_size)" if self.batch_first else "(R, T, B, input_size)"
                raise ValueError(f"{name} holds {self.replicas} replicas: expected input of shape {layout} with "
                                 f"R={self.replicas}, got {tuple(x.shape)} (unbatched input is not supported "
                                 "with replicas)")
            batched = True
        elif x.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {x.dim()}D tensor instead")
        else:
            batched = x.dim() == 3
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {x.shape[-1]}")
        return batched

    def _check_state(self, h: torch.Tensor, batched: bool, batch: int, size: int, what: str) -> None:
        expected: tuple[int, ...] = (self._directions * self.num_layers, batch, size) if batched else (
            self._directions * self.num_layers, size)
        if self.replicas is not None:
            expected = (self.replicas,) + expected
        if h.dim() != len(expected):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(f"For {kind} input, {what} should also be {len(expected)}-D but got "
                               f"{h.dim()}-D tensor")
        if tuple(h.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {list(h.shape)}")

    def take_rows_of(self, embedding: Embedding | None) -> None:
        """Let training take an input that ``embedding`` just output as rows of its table: the input
        projection, W_ih's gradient and the table's gradient then cost products with the table's rows
        instead of with every time step and sample (see ``_recurrence.Lookup``), when the table has
        fewer rows than the input has vectors. ``backward`` then returns, for such an input, a
        :class:`TableGrad` for that embedding's ``backward`` in place of dL/d input: for a caller that
        chains the two directly (a Sequential), not for one that needs dL/d input itself. None: undo."""
        object.__setattr__(self, "_table_source", embedding)

    def _lookup(self, x: torch.Tensor, keep: bool) -> rec.Lookup | None:
        """``x`` as rows of the table of the embedding given to :meth:`take_rows_of`, where that pays."""
        marked = getattr(x, "_mininet_rows_of", None)
        if marked is None or marked[0] is not self._table_source or not keep or self.replicas is not None:
            return None
        _, table, index = marked
        if x.dim() != 3 or index.numel() <= table.shape[0]:
            return None
        return rec.Lookup(table, index.transpose(0, 1) if self.batch_first else index)

    # ------------------------------------------------------------------ forward and backward
    def _run(self, x: torch.Tensor, h0: torch.Tensor | None, c0: torch.Tensor | None, keep: bool | None = None):
        # An LSTM in eval mode runs its forward alone (no (T, B, 4H) buffers, the large-set evaluation's
        # cost); should backward come anyway, it reruns forward from the inputs kept here, keeping all.
        if keep is None:
            keep = self.training or self.mode != "LSTM"
        inputs = (x, h0, c0)
        batched = self._check_input(x)
        lookup = self._lookup(x, keep)
        if not batched:
            x = x.unsqueeze(0 if self.batch_first else 1)
        xt = self._time_major(x)
        lead = tuple(xt.shape[1:-1])
        states = self._directions * self.num_layers
        given = h0 is not None
        for h, size, what in ((h0, self._real_hidden, "hx"), (c0, self.hidden_size, "cx")):
            if h is not None:
                self._check_state(h, batched, lead[-1], size, what)
        if h0 is None:
            h0 = torch.zeros((states, *lead, self._real_hidden), dtype=x.dtype, device=x.device)
            if self.mode == "LSTM":
                c0 = torch.zeros((states, *lead, self.hidden_size), dtype=x.dtype, device=x.device)
        else:
            h0 = self._states_in(h0 if batched else h0.unsqueeze(1))
            if c0 is not None:
                c0 = self._states_in(c0 if batched else c0.unsqueeze(1))
        h_n, c_n, saved, masks = [], [], [], []
        layer_input = xt
        D = self._directions
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                scan_input = lookup if layer == 0 and lookup is not None else layer_input
                out, h, c, s = rec.scan(self.mode, scan_input, h0[k], None if c0 is None else c0[k],
                                        self._weights(k), reverse=d == 1, ws=self._workspaces[k], keep=keep)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
                saved.append(s)
            layer_output = outs[0] if D == 1 else torch.cat(outs, -1)
            mask = None
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                mask = self._dropout_mask(layer_output)
                layer_output = layer_output * mask
            masks.append(mask)
            layer_input = layer_output
        self._saved = [saved, masks, batched, given, lookup is not None] if keep else ["lean", inputs]
        output = self._user_layout(layer_input)
        h_n_t = self._states_out(torch.stack(h_n))
        c_n_t = None if self.mode != "LSTM" else self._states_out(torch.stack(c_n))
        if not batched:
            output = output.squeeze(0 if self.batch_first else 1)
            h_n_t = h_n_t.squeeze(1)
            c_n_t = None if c_n_t is None else c_n_t.squeeze(1)
        return output, h_n_t, c_n_t

    def _dropout_mask(self, y: torch.Tensor) -> torch.Tensor:
        """ATen's dropout between layers on the CPU: ``empty_like(y).bernoulli_(1 - p).div_(1 - p)`` on the
        time-major output (the same draws as torch). Replicated: drawn replica by replica, as R models would."""
        p = self.dropout
        if p == 1:
            return torch.zeros_like(y)
        if self.replicas is None:
            return torch.empty_like(y).bernoulli_(1 - p).div_(1 - p)
        by_replica = torch.empty(y.transpose(0, 1).shape, dtype=y.dtype, device=y.device)  # (R, T, B, D), contiguous
        return by_replica.bernoulli_(1 - p).div_(1 - p).transpose(0, 1)

    def _backward(self, grad_output: torch.Tensor | None, grad_h_n: torch.Tensor | None,
                  grad_c_n: torch.Tensor | None):
        if self._saved is None:
            raise self._missing_forward()
        if self._saved[0] == "lean":
            self._run(*self._saved[1], keep=True)
        saved, masks, batched, given, table_grad = self._saved
        if not batched:
            if grad_output is not None:
                grad_output = grad_output.unsqueeze(0 if self.batch_first else 1)
            grad_h_n = None if grad_h_n is None else grad_h_n.unsqueeze(1)
            grad_c_n = None if grad_c_n is None else grad_c_n.unsqueeze(1)
        g = None if grad_output is None else self._time_major(grad_output)
        grad_h_n = None if grad_h_n is None else self._states_in(grad_h_n)
        grad_c_n = None if grad_c_n is None else self._states_in(grad_c_n)
        D, Hr = self._directions, self._real_hidden
        replicated = self.replicas is not None
        grad_h0: list[torch.Tensor] = [None] * (D * self.num_layers)  # type: ignore[list-item]
        grad_c0: list[torch.Tensor | None] = [None] * (D * self.num_layers)
        for layer in range(self.num_layers - 1, -1, -1):
            if g is not None and masks[layer] is not None:
                g = g * masks[layer]
            grad_in = None
            for d in range(D):
                k = layer * D + d
                g_d = None if g is None else (g if D == 1 else g[..., d * Hr:(d + 1) * Hr])
                gx, gh, gc, grads = rec.bptt(saved[k], g_d, None if grad_h_n is None else grad_h_n[k],
                                                 None if grad_c_n is None else grad_c_n[k], replicated)
                self._accumulate(k, grads)
                grad_h0[k], grad_c0[k] = gh, gc
                grad_in = gx if grad_in is None else grad_in + gx
            g = grad_in
        grad_input = TableGrad(g) if table_grad else self._user_layout(g)
        if not batched:
            grad_input = grad_input.squeeze(0 if self.batch_first else 1)
        if not given:
            return grad_input, None, None
        gh0 = self._states_out(torch.stack(grad_h0))
        gc0 = None if self.mode != "LSTM" else self._states_out(torch.stack(grad_c0))
        if not batched:
            gh0 = gh0.squeeze(1)
            gc0 = None if gc0 is None else gc0.squeeze(1)
        return grad_input, gh0, gc0

    def free_saved(self) -> None:
        """Drop what forward kept, and the reused buffers (a later forward makes them again)."""
        self._saved = None
        for ws in self._workspaces:
            ws.clear()
        super().free_saved()

    def _accumulate(self, index: int, grads: rec.Grads) -> None:
        for name in self._all_weights[index]:
            getattr(self, name).accumulate(getattr(grads, _FIELD[name.split("_l")[0]]))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class _HiddenStateOnly(RNNBase):
    """RNN and GRU: one state, ``forward(input, hx=None) -> (output, h_n)``,
    ``backward(grad_output, grad_h_n=None) -> (grad_input, grad_h0)``."""

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        output, h_n, _ = self._run(input, hx, None)
        return output, h_n

    def backward(self, grad_output: torch.Tensor | None, grad_h_n: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
        grad_input, grad_h0, _ = self._backward(grad_output, grad_h_n, None)
        return grad_input, grad_h0


class RNN(_HiddenStateOnly):
    r"""Elman RNN over a sequence, with tanh or ReLU, as ``torch.nn.RNN``.

    Forward (each layer and direction, t = 1..T):
        h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),  act = tanh or relu
    Backward (BPTT, t = T..1, dh_T = dL/dh_n): dh_t += dL/d output_t;
        d a_t = dh_t * act'(a_t)  (tanh: 1 - h_t^2; relu: [h_t > 0]);  dh_{t-1} = d a_t W_hh;
        dL/dx_t = d a_t W_ih; dL/dW_ih += sum_t d a_t^T x_t; dL/dW_hh += sum_t d a_t^T h_{t-1};
        dL/db_ih = dL/db_hh += sum_t d a_t;  dL/dh_0 = dh_0.
    See :class:`RNNBase` for layers, directions, dropout, replicas and the multi-tensor convention:
    ``forward(input, hx=None) -> (output, h_n)``, ``backward(grad_output, grad_h_n=None) ->
    (grad_input, grad_h0)``.

    Args:
        input_size, hidden_size: features of x and of h.
        num_layers: stacked recurrent layers.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        bias: if ``False``, no b_ih, b_hh.
        batch_first: input and output ``(B, T, features)`` instead of ``(T, B, features)``.
        dropout: dropout on the outputs of every layer but the last, in training.
        bidirectional: add a reverse direction.
        device, dtype: of the parameters.

    Shape:
        - input: ``(T, B, input_size)``, ``(B, T, input_size)`` with batch_first, or ``(T, input_size)``.
        - hx, h_n: ``(D * num_layers, B, hidden_size)`` or ``(D * num_layers, hidden_size)``, D = 2 if
          bidirectional else 1.
        - output: ``(T, B, D * hidden_size)`` (batch_first: ``(B, T, D * hidden_size)``).
        - weight_ih_l{k}[_reverse]: ``(hidden_size, input_size or D * hidden_size)``,
          weight_hh_l{k}: ``(hidden_size, hidden_size)``, bias_ih_l{k}, bias_hh_l{k}: ``(hidden_size,)``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self_nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self_nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self_nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{self_nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if self_nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)
        self.nonlinearity = self_nonlinearity


class LSTM(RNNBase):
    r"""Long short-term memory over a sequence, as ``torch.nn.LSTM`` (gate order i, f, g, o).

    Forward (each layer and direction, t = 1..T), a = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh split
    in four:
        i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)   (with proj_size: h_t = (o * tanh(c_t)) W_hr^T)
    Backward (BPTT, t = T..1, dh = dL/dh_n, dc = dL/dc_n): dh += dL/d output_t;
        (proj: dL/dW_hr += dh^T (o * tanh(c_t)), dh <- dh W_hr)
        dc += dh * o * (1 - tanh(c_t)^2)
        d a_i = dc * g * i (1 - i), d a_f = dc * c_{t-1} * f (1 - f), d a_g = dc * i * (1 - g^2),
        d a_o = dh * tanh(c_t) * o (1 - o)
        dc <- dc * f,  dh <- d a W_hh
    then dL/dx_t = d a_t W_ih, dL/dW_ih += sum_t d a_t^T x_t, dL/dW_hh += sum_t d a_t^T h_{t-1},
    dL/db_ih = dL/db_hh += sum_t d a_t; what is left in dh, dc is dL/dh_0, dL/dc_0.
    See :class:`RNNBase` for layers, directions, dropout, replicas and the multi-tensor convention:
    ``forward(input, hx=None) -> (output, (h_n, c_n))`` with ``hx = (h_0, c_0)``,
    ``backward(grad_output, grad_h_n=None, grad_c_n=None) -> (grad_input, grad_h0, grad_c0)``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype:
            as :class:`RNN`.
        proj_size: if > 0, h_t is projected to proj_size features by W_hr (``weight_hr_l{k}``).

    Shape:
        - input, output: as :class:`RNN`, with H_out = proj_size or hidden_size in the output.
        - h_0, h_n: ``(D * num_layers, B, H_out)``; c_0, c_n: ``(D * num_layers, B, hidden_size)``
          (unbatched: without B).
        - weight_ih_l{k}: ``(4 * hidden_size, input_size or D * H_out)``, weight_hh_l{k}:
          ``(4 * hidden_size, H_out)``, biases ``(4 * hidden_size,)``, weight_hr_l{k}:
          ``(proj_size, hidden_size)``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input: torch.Tensor, hx: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        h0, c0 = (None, None) if hx is None else hx
        if hx is not None and self.replicas is None and input.dim() == 2 and (h0.dim() != 2 or c0.dim() != 2):
            raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                               f"({h0.dim()}-D, {c0.dim()}-D) tensors")
        output, h_n, c_n = self._run(input, h0, c0)
        return output, (h_n, c_n)

    def backward(self, grad_output: torch.Tensor | None, grad_h_n: torch.Tensor | None = None,
                 grad_c_n: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        return self._backward(grad_output, grad_h_n, grad_c_n)


class GRU(_HiddenStateOnly):
    r"""Gated recurrent unit over a sequence, as ``torch.nn.GRU`` (gate order r, z, n).

    Forward (each layer and direction, t = 1..T), with xr, xz, xn = x_t W_ih^T + b_ih and
    hr, hz, hn = h_{t-1} W_hh^T + b_hh:
        r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r * hn)   (b_hn inside r * (...))
        h_t = (1 - z) * n + z * h_{t-1}
    Backward (BPTT, t = T..1, dh = dL/dh_n): dh += dL/d output_t;
        d a_n = dh * (1 - z) * (1 - n^2),  d a_z = dh * (h_{t-1} - n) * z (1 - z),
        d a_r = d a_n * hn * r (1 - r)
        input side d x = (d a_r, d a_z, d a_n); recurrent side d h = (d a_r, d a_z, d a_n * r)
        dh <- dh * z + (d h) W_hh
    then dL/dx_t = (d x)_t W_ih, dL/dW_ih += sum_t (d x)_t^T x_t, dL/db_ih += sum_t (d x)_t,
    dL/dW_hh += sum_t (d h)_t^T h_{t-1}, dL/db_hh += sum_t (d h)_t; dL/dh_0 = what is left in dh.
    See :class:`RNNBase` for layers, directions, dropout, replicas and the multi-tensor convention:
    ``forward(input, hx=None) -> (output, h_n)``, ``backward(grad_output, grad_h_n=None) ->
    (grad_input, grad_h0)``.

    Args:
        as :class:`RNN`, without nonlinearity.

    Shape:
        as :class:`RNN`, with ``3 * hidden_size`` rows in every weight and bias.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)
