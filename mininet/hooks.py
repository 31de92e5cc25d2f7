"""Hooks: functions called around a module's forward and backward, as torch.nn.Module's are.

Forward hooks run when the module is called, ``module(x)``; backward hooks when its hand-written
``backward`` runs, whoever calls it (a Sequential, a training loop). A module without hooks pays
nothing for them: while a backward hook is registered, a wrapper on the instance shadows the class's
``backward``, and it goes away with the last one.
"""

from __future__ import annotations

import inspect
import itertools
import types
from collections import OrderedDict
from typing import Any, Callable

KINDS = ("forward_pre", "forward", "backward_pre", "backward")
_ids = itertools.count()


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` unregisters the hook (also on leaving a
    ``with handle:`` block)."""

    def __init__(self, module: Any, kind: str) -> None:
        self.id = next(_ids)
        self._module, self._kind = module, kind

    def remove(self) -> None:
        hooks = self._module._hooks
        if hooks is not None:
            hooks[self._kind].pop(self.id, None)
            if self._kind.startswith("backward") and not (hooks["backward_pre"] or hooks["backward"]):
                self._module.__dict__.pop("backward", None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register(module: Any, kind: str, hook: Callable, prepend: bool) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"{module._get_name()}: a {kind.replace('_', ' ')} hook must be callable, "
                        f"got {type(hook).__name__}")
    if module._hooks is None:
        object.__setattr__(module, "_hooks", {k: OrderedDict() for k in KINDS})
    handle = RemovableHandle(module, kind)
    table = module._hooks[kind]
    table[handle.id] = hook
    if prepend:
        table.move_to_end(handle.id, last=False)
    if kind.startswith("backward"):
        module.__dict__["backward"] = types.MethodType(_backward_with_hooks, module)
    return handle


def call_with_hooks(module: Any, args: tuple, kwargs: dict) -> Any:
    """``module(*args, **kwargs)`` with its forward pre-hooks and forward hooks, in torch's order (as
    torch's hooks registered without ``with_kwargs``, they see the positional arguments only)."""
    hooks = module._hooks
    for hook in list(hooks["forward_pre"].values()):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    output = module.forward(*args, **kwargs)
    for hook in list(hooks["forward"].values()):
        result = hook(module, args, output)
        if result is not None:
            output = result
    return output


def _backward_with_hooks(module: Any, grad_output: Any = None, *args: Any, **kwargs: Any) -> Any:
    """The class's backward, between the backward pre-hooks and the backward hooks (torch's
    ``register_full_backward_pre_hook`` / ``register_full_backward_hook`` signatures: tuples of one
    gradient, or for a ``multi_tensor`` module one per output and one per input)."""
    if module.multi_tensor:
        return _multi_backward_with_hooks(module, (grad_output, *args), kwargs)
    hooks = module._hooks
    for hook in list(hooks["backward_pre"].values()):
        result = hook(module, (grad_output,))
        if result is not None:
            (grad_output,) = _gradients(module, result, "backward pre-hook", 1)
    grad_input = type(module).backward(module, grad_output, *args, **kwargs)
    for hook in list(hooks["backward"].values()):
        result = hook(module, (grad_input,), (grad_output,))
        if result is not None:
            (grad_input,) = _gradients(module, result, "backward hook", 1)
    return grad_input


def _multi_backward_with_hooks(module: Any, grad_outputs: tuple, kwargs: dict) -> Any:
    # one entry per output, as torch's: the gradients not passed (None, zero) fill the tuple up
    backward = type(module).backward
    n = len([p for p in inspect.signature(backward).parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) - 1
    grad_outputs = grad_outputs + (None,) * (n - len(grad_outputs))
    hooks = module._hooks
    for hook in list(hooks["backward_pre"].values()):
        result = hook(module, grad_outputs)
        if result is not None:
            grad_outputs = _gradients(module, result, "backward pre-hook", len(grad_outputs))
    grad_input = backward(module, *grad_outputs, **kwargs)
    single = not isinstance(grad_input, tuple)
    grad_inputs = (grad_input,) if single else grad_input
    for hook in list(hooks["backward"].values()):
        result = hook(module, grad_inputs, grad_outputs)
        if result is not None:
            grad_inputs = _gradients(module, result, "backward hook", len(grad_inputs))
    return grad_inputs[0] if single else grad_inputs


def _gradients(module: Any, result: Any, what: str, n: int) -> tuple:
    if not (isinstance(result, tuple) and len(result) == n):
        count = "one gradient" if n == 1 else f"{n} gradients"
        raise TypeError(f"{module._get_name()}: a {what} must return None or a tuple of {count}, "
                        f"got {type(result).__name__}"
                        + (f" of {len(result)}" if isinstance(result, tuple) else ""))
    return result
