"""RMSprop, torch.optim's exact single-tensor update (the one torch runs on CPU)."""

from __future__ import annotations

from typing import Any, Iterable

import torch

from ..parameter import Parameter
from ._args import advance, check_impl_flags, check_lr, check_nonnegative, item, new_step, to_scalar
from .optimizer import Optimizer


class RMSprop(Optimizer):
    r"""RMSprop (torch.optim.RMSprop's algorithm and arithmetic).

    For each parameter p with gradient g, at each step:

        g = -g                                              (if maximize)
        g = g + weight_decay * p                            (if weight_decay != 0)
        v = v * alpha + (1 - alpha) * g * g
        if centered:
            a = a.lerp(g, 1 - alpha)                        (a + (1 - alpha) * (g - a))
            avg = sqrt(v - a * a) + eps
        else:
            avg = sqrt(v) + eps
        if momentum > 0:
            b = b * momentum + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg

    v, a and b start at 0. The operations and their order are those of torch's
    ``_single_tensor_rmsprop``, run over a whole group with ``torch._foreach_*`` (on CPU these call
    the same per-tensor kernels), so float32 results are bit-identical to torch.optim.RMSprop.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the squared-gradient average (default 0.99).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by an estimate of the gradient's variance instead of its second moment.
        maximize: ascend instead of descend (default False).
        foreach: how torch computes the update; accepted, the numbers are the same.
        capturable, differentiable: must be False (no CUDA graphs, no autograd through the step).

    ``lr`` may be a 1-element tensor, as in torch. The arguments' order is torch's (capturable, foreach,
    maximize and differentiable are positional there too).
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict[str, Any]], lr: float | torch.Tensor = 1e-2,
                 alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_lr(lr)
        check_nonnegative(eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)
        check_impl_flags(foreach=foreach, capturable=capturable, differentiable=differentiable)

    def _step_group(self, group: dict[str, Any]) -> None:
        params, data, grads = self._with_grad(group)
        if not params:
            return
        lr, alpha, eps, wd = to_scalar(group["lr"]), group["alpha"], group["eps"], group["weight_decay"]
        momentum, centered = group["momentum"], group["centered"]
        states = []
        for p in params:
            state = self.state.setdefault(p, {})
            if not state:
                state["step"] = new_step()
                state["square_avg"] = torch.zeros_like(p.data, memory_format=torch.preserve_format)
                if momentum > 0:
                    state["momentum_buffer"] = torch.zeros_like(p.data, memory_format=torch.preserve_format)
                if centered:
                    state["grad_avg"] = torch.zeros_like(p.data, memory_format=torch.preserve_format)
            states.append(state)
        # The step count is not used by the update; it is kept for torch's state layout.
        advance([s["step"] for s in states])
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if wd != 0:
            grads = torch._foreach_add(grads, data, alpha=wd)
        square_avgs = [s["square_avg"] for s in states]
        torch._foreach_mul_(square_avgs, alpha)
        torch._foreach_addcmul_(square_avgs, grads, grads, value=1 - alpha)
        if centered:
            grad_avgs = [s["grad_avg"] for s in states]
            torch._foreach_lerp_(grad_avgs, grads, 1 - alpha)
            avgs = torch._foreach_addcmul(square_avgs, grad_avgs, grad_avgs, value=-1)
            torch._foreach_sqrt_(avgs)
        else:
            avgs = torch._foreach_sqrt(square_avgs)
        torch._foreach_add_(avgs, eps)
        if momentum > 0:
            bufs = [s["momentum_buffer"] for s in states]
            torch._foreach_mul_(bufs, momentum)
            torch._foreach_addcdiv_(bufs, grads, avgs)
            torch._foreach_add_(data, bufs, alpha=item(-lr))
        else:
            torch._foreach_addcdiv_(data, grads, avgs, value=item(-lr))
