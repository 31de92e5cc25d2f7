"""Checking a hand-written backward against finite differences, in float64.

The idea of ``torch.autograd.gradcheck``, for modules whose gradients nothing but their own ``backward``
computes (and without autograd). Write a layer, then::

    from mininet.testing import gradcheck
    gradcheck(MyLayer().double(), torch.randn(5, 4, dtype=torch.float64))

It checks d/d input and d/d every parameter; for a loss, pass the target too:
``gradcheck(MyLoss(), x, target)``.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

from .module import Module

__all__ = ["gradcheck"]


def gradcheck(module: Module, input: torch.Tensor | tuple, target: torch.Tensor | None = None, *,
              grad_output: torch.Tensor | tuple | None = None, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0, raise_exception: bool = True) -> bool:
    """Compare ``module.backward`` with central finite differences of the same forward.

    The scalar differentiated is J = sum(y * G), y = ``module(input)`` (``module(input, target)`` for a
    loss) and G = ``grad_output``: random (fixed by ``seed``) when not given, or nothing for a scalar y
    (the seed 1, as ``loss.backward()``). So ``module.backward(G)`` must return dJ/d input and accumulate
    dJ/d p into each trainable parameter's ``.grad`` (a frozen one, ``requires_grad`` False, must get
    none); each is compared, element by element, with
    (J(v + eps) - J(v - eps)) / (2 eps), as ``torch.isclose(analytic, numerical, rtol, atol)``.

    Several tensors (the multi-tensor convention of :class:`~mininet.Module`): ``input`` may be a tuple
    of forward's arguments (nested tuples allowed, e.g. ``(x, (h0, c0))`` for an LSTM); a module that
    returns a tuple gets one G per tensor output (nested tuples flattened), J sums y_k * G_k over
    them, ``backward(*G)`` is called and its tuple compared entry by entry with the flattened inputs.
    An integer input (indices) is not differentiated: its entry must be None.

    Every forward runs from the same random state (``seed``), so a Dropout mask is the same in each;
    the module's mode (train or eval) is the caller's. The module is left as it was found: parameter
    values, their ``.grad``, and buffers such as running statistics.

    Args:
        module: a mininet module (layer, container or loss) in float64.
        input: float64 tensor (or a tuple of forward's arguments), the point where the gradients are
            checked (it is not modified).
        target: a loss's target (not differentiated).
        grad_output: G, shaped like the output (a tuple, one per tensor output, for a tuple output).
        eps: the finite-difference step.
        atol, rtol: tolerances (torch.autograd.gradcheck's defaults).
        seed: the random state of every forward.
        raise_exception: raise ``AssertionError`` naming the first mismatch (else return ``False``).

    Returns:
        ``True`` when every gradient agrees.
    """
    several = isinstance(input, tuple)
    leaves = [t.detach().clone() for t in _flatten(input if several else (input,))]
    _require_float64(module, [t for t in leaves if t.is_floating_point()], several)
    params = list(module.named_parameters())
    saved_grads = {name: p.grad for name, p in params}
    saved_buffers = [(b, b.clone()) for _, b in module.named_buffers() if b is not None]
    structure = input if several else (input,)

    def forward() -> Any:
        fresh = iter([t.clone() for t in leaves])  # an in-place layer overwrites its input
        args = _rebuild(structure, fresh)
        with _same_random_state(seed, leaves[0].device):
            return module(*args) if target is None else module(*args, target)

    try:
        y = forward()
        outputs = _flatten(y if isinstance(y, tuple) else (y,))
        gs = _seeds(outputs, grad_output, seed)
        for _, p in params:
            p.grad = None
        result = module.backward(*gs) if isinstance(y, tuple) else module.backward(gs[0])
        names = [f"input[{k}]" for k in range(len(leaves))] if several else ["input"]
        returned = list(result) if isinstance(result, tuple) else [result]
        analytic = {name: returned[k] if k < len(returned) else None for k, name in enumerate(names)}
        analytic.update({name: p.grad for name, p in params if p.requires_grad})
        leaked = [name for name, p in params if not p.requires_grad and p.grad is not None]
        not_none = [name for name, t in zip(names, leaves) if not t.is_floating_point() and analytic[name] is not None]

        def objective() -> float:
            out = forward()
            outs = _flatten(out if isinstance(out, tuple) else (out,))
            return float(sum((o.sum() if g is None else (o * g).sum()) for o, g in zip(outs, gs)))

        numerical = {name: _central_differences(objective, t, eps) for name, t in zip(names, leaves)
                     if t.is_floating_point()}
        numerical.update({name: _central_differences(objective, p.data, eps) for name, p in params
                          if p.requires_grad})
    finally:
        for name, p in params:
            p.grad = saved_grads[name]
        for buffer, value in saved_buffers:
            buffer.copy_(value)
        module.free_saved()

    problems = []
    if leaked:
        problems.append(f"frozen parameter {leaked[0]} (requires_grad=False) received a gradient")
    if not_none:
        problems.append(f"d/d {not_none[0]}: an integer input takes no gradient, backward() gave a tensor")
    for name, expected in numerical.items():
        problem = _mismatch(f"d/d {name}", analytic[name], expected, atol, rtol)
        if problem is not None:
            problems.append(problem)
    if problems:
        if raise_exception:
            raise AssertionError(f"gradcheck of {module._get_name()}: {problems[0]}")
        return False
    return True


def _flatten(obj: Any) -> list:
    """The tensors of nested tuples, in order (None entries dropped)."""
    out: list = []
    for item in obj:
        if isinstance(item, tuple):
            out.extend(_flatten(item))
        elif item is not None:
            out.append(item)
    return out


def _rebuild(structure: Any, leaves: Iterator[torch.Tensor]) -> Any:
    return tuple(_rebuild(item, leaves) if isinstance(item, tuple) else None if item is None else next(leaves)
                 for item in structure)


def _seeds(outputs: list[torch.Tensor], grad_output: Any, seed: int) -> list[torch.Tensor | None]:
    if grad_output is not None:
        return _flatten(grad_output if isinstance(grad_output, tuple) else (grad_output,))
    generator = torch.Generator().manual_seed(seed)
    return [None if y.dim() == 0 and len(outputs) == 1 else
            torch.randn(y.shape, dtype=y.dtype, generator=generator).to(y.device) for y in outputs]


def _require_float64(module: Module, inputs: list[torch.Tensor], several: bool) -> None:
    names = [f"input[{k}]" for k in range(len(inputs))] if several else ["input"]
    tensors = list(zip(names, inputs)) + [(name, p.data) for name, p in module.named_parameters()]
    for name, t in tensors:
        if t.dtype != torch.float64:
            raise TypeError(f"gradcheck needs float64 (finite differences in float32 are mostly rounding "
                            f"error): {name} is {t.dtype}; use module.double() and a float64 input")


@contextlib.contextmanager
def _same_random_state(seed: int, device: torch.device) -> Iterator[None]:
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _central_differences(objective, t: torch.Tensor, eps: float) -> torch.Tensor:
    """dJ/dt, perturbing ``t`` in place one element at a time (each element restored after)."""
    grad = torch.empty_like(t)
    flat, out = t.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        orig = flat[i].item()
        flat[i] = orig + eps
        hi = objective()
        flat[i] = orig - eps
        lo = objective()
        flat[i] = orig
        out[i] = (hi - lo) / (2 * eps)
    return grad


def _mismatch(what: str, analytic: torch.Tensor | None, numerical: torch.Tensor,
              atol: float, rtol: float) -> str | None:
    if analytic is None:
        return f"{what}: backward() gave no gradient (None), finite differences give {_show(numerical)}"
    if analytic.shape != numerical.shape:
        return f"{what}: backward() gave shape {tuple(analytic.shape)}, expected {tuple(numerical.shape)}"
    close = torch.isclose(analytic, numerical, rtol=rtol, atol=atol)
    if bool(close.all()):
        return None
    bad = (~close).nonzero()[0]
    at = tuple(int(i) for i in bad)
    diff = (analytic - numerical).abs().max().item()
    return (f"{what} differs from finite differences at index {at}: backward() gives "
            f"{analytic[at].item():.6g}, finite differences {numerical[at].item():.6g} "
            f"({int((~close).sum())} of {close.numel()} elements differ; largest difference {diff:.3g}; "
            f"atol={atol}, rtol={rtol})")


def _show(t: torch.Tensor) -> str:
    return f"a tensor of shape {tuple(t.shape)} (largest magnitude {t.abs().max().item():.3g})"
