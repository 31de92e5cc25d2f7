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
import functools
from typing import Iterator

import torch

from .module import Module

__all__ = ["gradcheck"]


def gradcheck(module: Module, input: torch.Tensor | tuple[torch.Tensor, ...], target: torch.Tensor | None = None, *,
              grad_output: torch.Tensor | tuple[torch.Tensor | None, ...] | None = None, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0, raise_exception: bool = True,
              forward_kwargs: dict | None = None) -> bool:
    """Compare ``module.backward`` with central finite differences of the same forward.

    The scalar differentiated is J = sum(y * G), y = ``module(input)`` (``module(input, target)`` for a
    loss) and G = ``grad_output``: random (fixed by ``seed``) when not given, or nothing for a scalar y
    (the seed 1, as ``loss.backward()``). So ``module.backward(G)`` must return dJ/d input and accumulate
    dJ/d p into each trainable parameter's ``.grad`` (a frozen one, ``requires_grad`` False, must get
    none); each is compared, element by element, with
    (J(v + eps) - J(v - eps)) / (2 eps), as ``torch.isclose(analytic, numerical, rtol, atol)``.

    Every forward runs from the same random state (``seed``), so a Dropout mask is the same in each;
    the module's mode (train or eval) is the caller's. The module is left as it was found: parameter
    values, their ``.grad``, and buffers such as running statistics.

    Several inputs and outputs (attention): ``input`` a tuple of tensors, passed as ``module(*input)``
    (``module.forward(*input, **forward_kwargs)`` with keywords, e.g. masks); an output that is a tuple
    gives J = sum over its tensors of sum(y_i * G_i) and ``module.backward(G_1, G_2, ...)`` (None for an
    output that is None), which must return one gradient per input. One tensor passed at several
    positions (self-attention's query, key and value) is perturbed once, as autograd sees it: its
    gradients from the positions are added.

    Args:
        module: a mininet module (layer, container or loss) in float64.
        input: float64 tensor (or tuple of them), the point where the gradients are checked (not modified).
        target: a loss's target (not differentiated).
        grad_output: G, shaped like the output (a tuple for several outputs).
        eps: the finite-difference step.
        atol, rtol: tolerances (torch.autograd.gradcheck's defaults).
        seed: the random state of every forward.
        raise_exception: raise ``AssertionError`` naming the first mismatch (else return ``False``).
        forward_kwargs: keyword arguments of every forward (not differentiated).

    Returns:
        ``True`` when every gradient agrees.
    """
    given = input if isinstance(input, tuple) else (input,)
    distinct = list({id(t): t for t in given}.values())  # a tensor passed twice is one variable
    position = [next(j for j, d in enumerate(distinct) if d is t) for t in given]
    for t in distinct:
        _require_float64(module, t)
    params = list(module.named_parameters())
    saved_grads = {name: p.grad for name, p in params}
    saved_buffers = [(b, b.clone()) for _, b in module.named_buffers() if b is not None]
    xs = [t.detach().clone() for t in distinct]
    call = module if forward_kwargs is None else functools.partial(module.forward, **forward_kwargs)

    def forward():
        clones = [x.clone() for x in xs]  # an in-place layer overwrites its input
        args = [clones[j] for j in position]
        with _same_random_state(seed, xs[0].device):
            return call(*args) if target is None else call(*args, target)

    def seeds(y) -> list[torch.Tensor | None]:
        outputs = _flatten(y)
        if grad_output is not None:
            return list(grad_output) if len(outputs) > 1 else [grad_output]
        gen = torch.Generator().manual_seed(seed)
        return [None if t is None or t.dim() == 0 else
                torch.randn(t.shape, dtype=t.dtype, generator=gen).to(t.device) for t in outputs]

    try:
        y = forward()
        gs = seeds(y)
        for _, p in params:
            p.grad = None
        grads = module.backward(*gs) if isinstance(y, tuple) else module.backward(gs[0])
        grads = list(grads) if isinstance(grads, tuple) else [grads]  # one input: one tensor
        names = ["input"] if len(distinct) == 1 else [f"input {j}" for j in range(len(distinct))]
        analytic: dict[str, torch.Tensor | None] = {}
        for j, name in enumerate(names):  # the gradients of a tensor's positions add up
            parts = [g for g, k in zip(grads, position) if k == j]
            analytic[name] = None if any(g is None for g in parts) else sum(parts)
        analytic.update({name: p.grad for name, p in params if p.requires_grad})
        leaked = [name for name, p in params if not p.requires_grad and p.grad is not None]

        def objective() -> float:
            total = 0.0
            for out, g in zip(_flatten(forward()), gs):
                if out is not None:
                    total += float(out.sum() if g is None else (out * g).sum())
            return total

        numerical = {name: _central_differences(objective, x, eps) for name, x in zip(names, xs)}
        numerical.update({name: _central_differences(objective, p.data, eps) for name, p in params
                          if p.requires_grad})
    finally:
        for name, p in params:
            p.grad = saved_grads[name]
        for buffer, value in saved_buffers:
            buffer.copy_(value)
        module.free_saved()

    if leaked:
        if raise_exception:
            raise AssertionError(f"gradcheck of {module._get_name()}: frozen parameter {leaked[0]} "
                                 "(requires_grad=False) received a gradient")
        return False
    for name, expected in numerical.items():
        problem = _mismatch(f"d/d {name}", analytic[name], expected, atol, rtol)
        if problem is not None:
            if raise_exception:
                raise AssertionError(f"gradcheck of {module._get_name()}: {problem}")
            return False
    return True


def _flatten(y) -> list[torch.Tensor | None]:
    """The tensors of an output, nested tuples flattened, in order (None kept: an output not computed)."""
    if isinstance(y, tuple):
        return [t for item in y for t in _flatten(item)]
    return [y]


def _require_float64(module: Module, input: torch.Tensor) -> None:
    tensors = [("input", input)] + [(name, p.data) for name, p in module.named_parameters()]
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
