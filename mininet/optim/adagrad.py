"""Adagrad, torch.optim's exact single-tensor update (the one torch runs on CPU)."""

from __future__ import annotations

from typing import Any, Iterable

import torch

from ..parameter import Parameter
from ._args import advance, check_impl_flags, check_lr, check_nonnegative, item, new_step, to_scalar
from .optimizer import Optimizer


class Adagrad(Optimizer):
    r"""Adagrad (torch.optim.Adagrad's algorithm and arithmetic).

    For each parameter p with gradient g, at step t (t counts this parameter's own steps):

        g = -g                                              (if maximize)
        g = g + weight_decay * p                            (if weight_decay != 0)
        clr = lr / (1 + (t - 1) * lr_decay)                 (a Python float)
        s = s + g * g
        p = p - clr * g / (sqrt(s) + eps)

    The sum s starts at ``initial_accumulator_value``; like torch, the state of every parameter is
    created in the constructor. The operations and their order are those of torch's
    ``_single_tensor_adagrad``, run over a whole group with ``torch._foreach_*`` (on CPU these call
    the same per-tensor kernels), so float32 results are bit-identical to torch.optim.Adagrad.
    Sparse gradients are not supported.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        initial_accumulator_value: starting value of the sum of squared gradients (default 0).
        eps: added to the denominator (default 1e-10).
        maximize: ascend instead of descend (default False).
        foreach, fused: how torch computes the update; accepted, the numbers are the same (with ``fused``
            the step counters are float32, as torch stores them).
        differentiable: must be False (no autograd through the step).

    ``lr`` may be a 1-element tensor, as in torch (clr is then computed in tensor arithmetic, as torch does).
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict[str, Any]], lr: float | torch.Tensor = 1e-2,
                 lr_decay: float = 0, weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_lr(lr)
        check_nonnegative(lr_decay=lr_decay, weight_decay=weight_decay,
                          initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        check_impl_flags(foreach=foreach, fused=fused, differentiable=differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self._state_of(p, group)

    def _state_of(self, p: Parameter, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state.setdefault(p, {})
        if not state:  # also covers groups added after construction
            state["step"] = new_step(group["fused"])
            state["sum"] = torch.full_like(p.data, group["initial_accumulator_value"],
                                           memory_format=torch.preserve_format)
        return state

    def _step_group(self, group: dict[str, Any]) -> None:
        params, data, grads = self._with_grad(group)
        if not params:
            return
        lr, lr_decay, eps, wd = to_scalar(group["lr"]), group["lr_decay"], group["eps"], group["weight_decay"]
        states = [self._state_of(p, group) for p in params]
        t = advance([s["step"] for s in states])
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if wd != 0:
            grads = torch._foreach_add(grads, data, alpha=wd)
        neg_clrs = [item(-(lr / (1 + (s - 1) * lr_decay))) for s in t]
        sums = [s["sum"] for s in states]
        torch._foreach_addcmul_(sums, grads, grads, value=1)
        stds = torch._foreach_sqrt(sums)
        torch._foreach_add_(stds, eps)
        torch._foreach_addcdiv_(data, grads, stds, neg_clrs)
