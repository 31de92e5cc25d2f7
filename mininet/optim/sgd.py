"""Stochastic gradient descent with momentum, torch.optim.SGD's exact update."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch

from ..parameter import Parameter
from ._args import check_impl_flags, check_lr, to_scalar
from .optimizer import Optimizer


class SGD(Optimizer):
    r"""SGD with optional momentum, dampening, Nesterov and weight decay (torch.optim.SGD's algorithm).

    For each parameter p with gradient g, at step t:

        g = g + weight_decay * p                          (if weight_decay != 0)
        if momentum != 0:
            b = g  (a copy)                               at the first step
            b = momentum * b + (1 - dampening) * g        afterwards
            g = g + momentum * b   if nesterov   else   g = b
        p = p - lr * g                                    (maximize: p + lr * g)

    The element-wise operations are torch's own (``add_(.., alpha=)``, ``mul_``). When every parameter
    of a group has a gradient, the group is stepped as one flat tensor: at its first step each
    Parameter's ``.data`` (and later its momentum buffer) becomes a view of one contiguous buffer,
    which makes a step a handful of tensor operations whatever the number of parameters. Otherwise
    the group is stepped per tensor with ``torch._foreach_*``. Either way float32 results are bit-identical to
    torch.optim.SGD.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3, as torch).
        momentum, dampening, weight_decay: as above (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.
        foreach, fused: how torch computes the update; accepted, and the numbers are the same either way
            (mininet computes it as above; torch's fused CPU kernel agrees to rounding).
        differentiable: must be False (no autograd through the step).

    ``lr`` (and ``weight_decay``) may be 1-element tensors, as in torch; they are read at every step, so an
    in-place change takes effect.
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict[str, Any]], lr: float | torch.Tensor = 1e-3,
                 momentum: float = 0, dampening: float = 0, weight_decay: float | torch.Tensor = 0,
                 nesterov: bool = False, *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)
        check_impl_flags(foreach=foreach, fused=fused, differentiable=differentiable)
        self._flat: dict[int, _FlatGroup] = {}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = closure() if closure is not None else None
        for index, group in enumerate(self.param_groups):
            flat = self._flat_view(index, group)
            if flat is not None:
                self._flat_step(group, flat)
            else:
                self._tensor_step(group)
        return loss

    def _tensor_step(self, group: dict[str, Any]) -> None:
        params, data, grads = self._with_grad(group)
        if not params:
            return
        lr, mu, wd = to_scalar(group["lr"]), group["momentum"], group["weight_decay"]
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if wd != 0:
            grads = torch._foreach_add(grads, data, alpha=wd)
        if mu != 0:
            bufs = [self.state.get(p, {}).get("momentum_buffer") for p in params]
            if all(b is not None for b in bufs):
                torch._foreach_mul_(bufs, mu)
                torch._foreach_add_(bufs, grads, alpha=1 - group["dampening"])
            else:
                for i, (p, g) in enumerate(zip(params, grads)):
                    if bufs[i] is None:
                        bufs[i] = torch.clone(g)
                        self.state.setdefault(p, {})["momentum_buffer"] = bufs[i]
                    else:
                        bufs[i].mul_(mu).add_(g, alpha=1 - group["dampening"])
            grads = torch._foreach_add(grads, bufs, alpha=mu) if group["nesterov"] else bufs
        torch._foreach_add_(data, grads, alpha=-lr)

    # A group whose parameters all have gradients is stepped on one flat buffer: each parameter's
    # ``.data`` (and momentum buffer) becomes a view of one contiguous tensor, so a step is a handful of
    # tensor operations instead of a handful per parameter. Element-wise arithmetic does not depend on
    # the layout, so the numbers are the same bits as the per-tensor path (and torch's).
    def _flat_view(self, index: int, group: dict[str, Any]) -> _FlatGroup | None:
        params = group["params"]
        flat = self._flat.get(index)
        if flat is not None:
            if flat.params == params and all(p.data is v for p, v in zip(params, flat.views)) and \
                    all(p.grad is not None for p in params):
                return flat
            del self._flat[index]  # parameters were replaced (e.g. .to()) or a gradient is missing
        if len(params) < 2 or any(p.grad is None or not p.data.is_contiguous() for p in params):
            return None
        first = params[0].data
        if any(p.data.dtype != first.dtype or p.data.device != first.device for p in params):
            return None
        bufs = [self.state.get(p, {}).get("momentum_buffer") for p in params]
        if any(b is None for b in bufs) and not all(b is None for b in bufs):
            return None
        data = torch.cat([p.data.reshape(-1) for p in params])
        views = _split(data, params)
        for p, v in zip(params, views):
            p.data = v
        momentum = None
        if bufs[0] is not None:
            momentum = torch.cat([b.reshape(-1) for b in bufs])
            for p, v in zip(params, _split(momentum, params)):
                self.state[p]["momentum_buffer"] = v
        flat = self._flat[index] = _FlatGroup(list(params), data, views, momentum)
        return flat

    def _flat_step(self, group: dict[str, Any], flat: _FlatGroup) -> None:
        lr, mu, wd = to_scalar(group["lr"]), group["momentum"], group["weight_decay"]
        g = torch.cat([p.grad.reshape(-1) for p in flat.params])
        if group["maximize"]:
            g = g.neg_()
        if wd != 0:
            g = g.add(flat.data, alpha=wd)
        if mu != 0:
            if flat.momentum is None:
                flat.momentum = torch.clone(g)
                for p, v in zip(flat.params, _split(flat.momentum, flat.params)):
                    self.state.setdefault(p, {})["momentum_buffer"] = v
            else:
                flat.momentum.mul_(mu).add_(g, alpha=1 - group["dampening"])
            g = g.add(flat.momentum, alpha=mu) if group["nesterov"] else flat.momentum
        flat.data.add_(g, alpha=-lr)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._flat.clear()  # the loaded momentum buffers replace the flat one
        super().load_state_dict(state_dict)


@dataclass
class _FlatGroup:
    params: list[Parameter]
    data: torch.Tensor  # every parameter of the group, flattened and concatenated
    views: list[torch.Tensor]  # each parameter's .data, a view of ``data``
    momentum: torch.Tensor | None  # the momentum buffers, likewise (None before the first step)


def _split(flat: torch.Tensor, params: list[Parameter]) -> list[torch.Tensor]:
    return [chunk.view(p.data.shape) for chunk, p in zip(flat.split([p.data.numel() for p in params]), params)]
