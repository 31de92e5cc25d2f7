"""Adam and AdamW, torch.optim's exact single-tensor update (the one torch runs on CPU)."""

from __future__ import annotations

from typing import Any, Iterable

import torch

from ..parameter import Parameter
from ._args import advance, check_impl_flags, check_lr, check_nonnegative, item, new_step, to_scalar
from .optimizer import Optimizer


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
        foreach, fused: how torch computes the update; accepted, the numbers are the same (mininet
            computes it as above; with ``fused`` the step counters are float32, as torch stores them).
        capturable, differentiable: must be False (no CUDA graphs, no autograd through the step).

    ``lr`` and ``betas`` may be 1-element tensors, as in torch (not with ``foreach=True``, which torch
    refuses); the Python-float scalars above are then computed in tensor arithmetic, as torch does.
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict[str, Any]], lr: float | torch.Tensor = 1e-3,
                 betas: tuple[float | torch.Tensor, float | torch.Tensor] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        if isinstance(lr, torch.Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        check_lr(lr)
        check_nonnegative(eps=eps)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_nonnegative(weight_decay=weight_decay)
        if not (all(isinstance(beta, float) for beta in betas) or all(isinstance(beta, torch.Tensor) for beta in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, torch.Tensor):
                if foreach and not capturable:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        defaults = dict(lr=lr, betas=tuple(map(to_scalar, betas)), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        check_impl_flags(foreach=foreach, fused=fused, capturable=capturable, differentiable=differentiable)

    def _moments(self, params: list[Parameter], amsgrad: bool, fused: bool | None) -> tuple[list, list, list, list]:
        """Each parameter's step counter, m, v and (amsgrad) v_max; created as zeros on first use."""
        steps, exp_avgs, exp_avg_sqs, max_sqs = [], [], [], []
        for p in params:
            state = self.state.setdefault(p, {})
            if not state:
                state["step"] = new_step(fused)
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

    def _step_group(self, group: dict[str, Any]) -> None:
        params, data, grads = self._with_grad(group)
        if not params:
            return
        lr, eps, wd = to_scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = map(to_scalar, group["betas"])
        amsgrad = group["amsgrad"]
        steps, exp_avgs, exp_avg_sqs, max_sqs = self._moments(params, amsgrad, group["fused"])
        t = advance(steps)
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                torch._foreach_mul_(data, item(1 - lr * wd))
            else:
                grads = torch._foreach_add(grads, data, alpha=wd)
        torch._foreach_lerp_(exp_avgs, grads, item(1 - beta1))
        torch._foreach_mul_(exp_avg_sqs, item(beta2))
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=item(1 - beta2))
        # Scalars computed exactly as torch computes them (** 0.5, not math.sqrt): Python floats, or
        # 0-d tensors read back with .item() where lr / betas are tensors.
        step_sizes = [item(-(lr / (1 - beta1**s))) for s in t]
        bc2_sqrts = [item((1 - beta2**s) ** 0.5) for s in t]
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
        foreach, fused, capturable, differentiable: as in :class:`Adam`.
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict[str, Any]], lr: float | torch.Tensor = 1e-3,
                 betas: tuple[float | torch.Tensor, float | torch.Tensor] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
