"""Stochastic gradient descent with momentum, torch.optim.SGD's exact update."""

from __future__ import annotations

from typing import Any, Iterable

import torch

from ..parameter import Parameter
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

    The element-wise operations are torch's own (``add_(.., alpha=)``, ``mul_``), applied to all
    parameters of a group at once with ``torch._foreach_*``, so float32 results are bit-identical to
    torch.optim.SGD.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3, as torch).
        momentum, dampening, weight_decay: as above (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, *, maximize: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def step(self) -> None:
        for group in self.param_groups:
            params, data, grads = self._with_grad(group)
            if not params:
                continue
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
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
