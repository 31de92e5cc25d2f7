"""Adam and AdamW, torch.optim's exact single-tensor update (the one torch runs on CPU)."""

from __future__ import annotations

from typing import Any, Iterable

import torch

from ..parameter import Parameter
from .optimizer import Optimizer


_HYPER_NAMES = {"lr": "learning rate", "eps": "epsilon value"}


def _check_nonnegative(**values: float) -> None:
    """Raise torch's ValueError for the first negative hyper-parameter."""
    for key, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_HYPER_NAMES.get(key, key + ' value')}: {value}")


def _new_step() -> torch.Tensor:
    """A fresh step counter, stored as torch stores it: a 0-d float tensor (float64 under a float64
    default dtype), so that state_dicts move between mininet and torch.optim unchanged."""
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(0.0, dtype=dtype)


def _advance(steps: list[torch.Tensor]) -> list[float]:
    """Add 1 to every step counter (``step_t += 1``) and return their values as Python floats.

    torch reads the counter back with ``.item()`` and does the bias-correction arithmetic in Python
    floats; so do we, which keeps those scalars bit-identical.
    """
    torch._foreach_add_(steps, 1)
    return [s.item() for s in steps]


class Adam(Optimizer):
    r"""Adam (torch.optim.Adam's algorithm and arithmetic).

    For each parameter p with gradient g, at step t (t counts this parameter's own steps):

        g = -g                                              (if maximize)
        p = p * (1 - lr * weight_decay)                     (if weight_decay != 0 and decoupled)
        g = g + weight_decay * p                            (if weight_decay != 0 and not decoupled)
        m = m.lerp(g, 1 - beta1)                            (m + (1 - beta1) * (g - m))
        v = v * beta2 + (1 - beta2) * g * g
        bc1 = 1 - beta1 ** t,   bc2 = 1 - beta2 ** t        (Python floats)
        v_max = max(v_max, v)                               (if amsgrad; then v_max replaces v below)
        denom = sqrt(v) / bc2 ** 0.5 + eps
        p = p - (lr / bc1) * m / denom

    m, v (and v_max) start at 0. The operations and their order are those of torch's
    ``_single_tensor_adam``, run over a whole group with ``torch._foreach_*`` (on CPU these call the
    same per-tensor kernels), so float32 results are bit-identical to torch.optim.Adam. A parameter
    whose ``.grad`` is ``None`` is skipped and its step count does not advance, as in torch.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: (beta1, beta2), decay rates of the first and second moment (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0); decoupled in AdamW.
        amsgrad: use the maximum of all second moments so far (AMSGrad) (default False).
        maximize: ascend instead of descend (default False).
        decoupled_weight_decay: decay the parameter directly, as AdamW does (default False).
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
        _check_nonnegative(lr=lr, eps=eps)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        _check_nonnegative(weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _moments(self, params: list[Parameter], amsgrad: bool) -> tuple[list, list, list, list]:
        """Each parameter's step counter, m, v and (amsgrad) v_max; created as zeros on first use."""
        steps, exp_avgs, exp_avg_sqs, max_sqs = [], [], [], []
        for p in params:
            state = self.state.setdefault(p, {})
            if not state:
                state["step"] = _new_step()
                state["exp_avg"] = torch.zeros_like(p.data, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p.data, memory_format=torch.preserve_format)
                if amsgrad:
                    state["max_exp_avg_sq"] = torch.zeros_like(p.data, memory_format=torch.preserve_format)
            steps.append(state["step"])
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            if amsgrad:
                max_sqs.append(state["max_exp_avg_sq"])
        return steps, exp_avgs, exp_avg_sqs, max_sqs

    def step(self) -> None:
        for group in self.param_groups:
            params, data, grads = self._with_grad(group)
            if not params:
                continue
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            amsgrad = group["amsgrad"]
            steps, exp_avgs, exp_avg_sqs, max_sqs = self._moments(params, amsgrad)
            t = _advance(steps)
            if group["maximize"]:
                grads = torch._foreach_neg(grads)
            if wd != 0:
                if group["decoupled_weight_decay"]:
                    torch._foreach_mul_(data, 1 - lr * wd)
                else:
                    grads = torch._foreach_add(grads, data, alpha=wd)
            torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
            torch._foreach_mul_(exp_avg_sqs, beta2)
            torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
            # Python-float scalars, computed exactly as torch computes them (** 0.5, not math.sqrt).
            step_sizes = [-(lr / (1 - beta1**s)) for s in t]
            bc2_sqrts = [(1 - beta2**s) ** 0.5 for s in t]
            if amsgrad:
                torch._foreach_maximum_(max_sqs, exp_avg_sqs)
                denoms = torch._foreach_sqrt(max_sqs)
            else:
                denoms = torch._foreach_sqrt(exp_avg_sqs)
            torch._foreach_div_(denoms, bc2_sqrts)
            torch._foreach_add_(denoms, eps)
            torch._foreach_addcdiv_(data, exp_avgs, denoms, step_sizes)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (torch.optim.AdamW's algorithm and arithmetic).

    The update is :class:`Adam`'s with ``decoupled_weight_decay=True``: before the moments are
    updated, each parameter is decayed directly,

        p = p * (1 - lr * weight_decay)

    and the gradient itself is not changed by the weight decay.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: decoupled weight decay coefficient (default 1e-2).
        amsgrad: use AMSGrad (default False).
        maximize: ascend instead of descend (default False).
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
