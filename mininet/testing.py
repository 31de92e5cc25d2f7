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
from typing import Any, Iterator

import torch

from .module import Module

__all__ = ["gradcheck"]


def gradcheck(module: Module, input: torch.Tensor | tuple, target: torch.Tensor | None = None, *,
              grad_output: torch.Tensor | tuple | None = None, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0, raise_exception: bool = True,
              forward_kwargs: dict | None = None) -> bool:
    """Compare ``module.backward`` with central finite differences of the same forward.

    The scalar differentiated is J = sum(y * G), y = ``module(input)`` (``module(input, target)`` for a
    loss) and G = ``grad_output``: random (fixed by ``seed``) when not given, or nothing for a scalar y
    (the seed 1, as ``loss.backward()``). So ``module.backward(G)`` must return dJ/d input and accumulate
    dJ/d p into each trainable parameter's ``.grad`` (a frozen one, ``requires_grad`` False, must get
    none); each is compared, element by element, with
    (J(v + eps) - J(v - eps)) / (2 eps), as ``torch.isclose(analytic, numerical, rtol, atol)``.

    Several tensors (the multi-tensor convention of :class:`~mininet.Module`):

    * ``input`` may be a tuple of forward's positional arguments, nested tuples allowed (an LSTM's
      ``(x, (h0, c0))``) and None for an argument not given; ``forward_kwargs`` are keyword arguments of
      every forward (masks, flags; not differentiated), which then calls ``module.forward``.
    * A module that returns a tuple gets one G per output, nested tuples flattened (None for an output
      that is None: it is left out of J); J sums sum(y_k * G_k) over them and ``backward(*G)`` is called.
      Its result is read as one entry per flattened input position (None entries and inputs not given
      count as positions): input k is compared with entry k.
    * An input that is not floating point (indices, a boolean mask) is not differentiated: its entry
      must be None, as must the entry of an input not given.
    * One tensor passed at several positions (self-attention's query, key and value) is one variable,
      perturbed once as autograd sees it: the entries of its positions are added, and it is named by
      its first position.

    Every forward runs from the same random state (``seed``), so a Dropout mask is the same in each;
    the module's mode (train or eval) is the caller's. The module is left as it was found: parameter
    values, their ``.grad``, and buffers such as running statistics.

    Args:
        module: a mininet module (layer, container or loss) in float64.
        input: float64 tensor (or a tuple of forward's arguments), the point where the gradients are
            checked (it is not modified).
        target: a loss's target (not differentiated).
        grad_output: G, shaped like the output (a tuple, one per output, for a tuple output).
        eps: the finite-difference step.
        atol, rtol: tolerances (torch.autograd.gradcheck's defaults).
        seed: the random state of every forward.
        raise_exception: raise ``AssertionError`` naming the first mismatch (else return ``False``).
        forward_kwargs: keyword arguments of every forward (not differentiated).

    Returns:
        ``True`` when every gradient agrees.
    """
    several = isinstance(input, tuple)
    structure = input if several else (input,)
    positions = _flatten(structure)  # None kept: an argument not given is a position of backward's result
    distinct = list({id(t): t for t in positions if t is not None}.values())  # a tensor passed twice is one
    var_of = [None if t is None else next(j for j, d in enumerate(distinct) if d is t) for t in positions]
    first = [var_of.index(j) for j in range(len(distinct))]
    names = [f"input {k}" for k in first] if several else ["input"]
    _require_float64(module, [(name, t) for name, t in zip(names, distinct) if t.is_floating_point()])
    params = list(module.named_parameters())
    saved_grads = {name: p.grad for name, p in params}
    saved_buffers = [(b, b.clone()) for _, b in module.named_buffers() if b is not None]
    xs = [t.detach().clone() for t in distinct]
    call = module if forward_kwargs is None else functools.partial(module.forward, **forward_kwargs)

    def forward() -> Any:
        clones = [x.clone() for x in xs]  # an in-place layer overwrites its input; a tied tensor stays one
        args = _rebuild(structure, iter([clones[j] for j in var_of if j is not None]))
        with _same_random_state(seed, xs[0].device):
            return call(*args) if target is None else call(*args, target)

    try:
        y = forward()
        outputs = _flatten(y if isinstance(y, tuple) else (y,))
        gs = _seeds(outputs, grad_output, seed)
        for _, p in params:
            p.grad = None
        result = module.backward(*gs) if isinstance(y, tuple) else module.backward(gs[0])
        returned = _flatten(result) if isinstance(result, tuple) else [result]
        returned += [None] * (len(positions) - len(returned))
        analytic: dict[str, torch.Tensor | None] = {}
        for j, name in enumerate(names):  # the gradients of a tensor's positions add up
            parts = [g for g, v in zip(returned, var_of) if v == j]
            analytic[name] = None if any(g is None for g in parts) else sum(parts)
        analytic.update({name: p.grad for name, p in params if p.requires_grad})
        leaked = [name for name, p in params if not p.requires_grad and p.grad is not None]
        not_none = [name for name, x in zip(names, xs) if not x.is_floating_point() and analytic[name] is not None]
        not_given = [f"input {k}" for k, g in enumerate(returned)
                     if g is not None and (k >= len(var_of) or var_of[k] is None)]

        def objective() -> float:
            out = forward()
            outs = _flatten(out if isinstance(out, tuple) else (out,))
            return float(sum(o.sum() if g is None else (o * g).sum()
                             for o, g in zip(outs, gs) if o is not None and (g is not None or len(outs) == 1)))

        numerical = {name: _central_differences(objective, x, eps) for name, x in zip(names, xs)
                     if x.is_floating_point()}
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
        problems.append(f"d/d {not_none[0]}: an input that is not floating point takes no gradient, "
                        "backward() gave a tensor")
    if not_given:
        problems.append(f"d/d {not_given[0]}: an input not given takes no gradient, backward() gave a tensor")
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
    """The entries of nested tuples, in order (None kept: an argument not given, an output not computed)."""
    return [t for item in obj for t in (_flatten(item) if isinstance(item, tuple) else (item,))]


def _rebuild(structure: Any, leaves: Iterator[torch.Tensor]) -> Any:
    return tuple(_rebuild(item, leaves) if isinstance(item, tuple) else None if item is None else next(leaves)
                 for item in structure)


def _seeds(outputs: list, grad_output: Any, seed: int) -> list[torch.Tensor | None]:
    """One G per output: the given ones (flattened like the outputs), else random; none for a lone scalar
    output (the seed 1 of a loss) or for an output that is None."""
    if grad_output is not None:
        return _flatten(grad_output) if isinstance(grad_output, tuple) else [grad_output]
    generator = torch.Generator().manual_seed(seed)
    return [None if y is None or (y.dim() == 0 and len(outputs) == 1) else
            torch.randn(y.shape, dtype=y.dtype, generator=generator).to(y.device) for y in outputs]


def _require_float64(module: Module, inputs: list[tuple[str, torch.Tensor]]) -> None:
    tensors = inputs + [(name, p.data) for name, p in module.named_parameters()]
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
