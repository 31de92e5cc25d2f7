"""Module: the base class of every layer and loss, with torch.nn's bookkeeping API."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import torch

from . import hooks as _hooks_impl
from .hooks import RemovableHandle
from .parameter import Parameter, zero_grads


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` did not match, as torch's named tuple of the same fields."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


_REGISTRIES = frozenset({"_parameters", "_buffers", "_non_persistent", "_modules", "_chain"})


def _holds_tensor(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    return isinstance(value, tuple) and any(isinstance(v, torch.Tensor) for v in value)


class Module:
    """Base class of all mininet layers and losses.

    Subclasses implement ``forward(*inputs)`` and ``backward(grad_output)``; ``module(*args, **kwargs)``
    calls ``forward``, whose parameters are named as torch's (``input``; a loss's ``input, target``):

    * ``forward`` computes the output and keeps on the module what ``backward`` needs.
    * ``backward(grad_output)`` returns d loss / d input and *accumulates* (``+=``) d loss / d p into
      each parameter's ``.grad``, so gradients of several backward calls add up until ``zero_grad()``.

    Parameters, buffers and submodules assigned as attributes are registered in order, so
    ``state_dict()`` has the same keys, order and shapes as the equivalent ``torch.nn`` model.

    Replicas: ``replicate(n)`` turns every parameter and buffer into ``n`` independent copies stacked
    along a new leading dimension. Inputs then carry the same leading dimension and each replica trains
    as if it were its own model (used to train many repetitions at once).

    Several tensors in or out (recurrent layers, attention; such a class sets ``multi_tensor = True``):

    * ``forward(*inputs)`` may take several tensors and return a tuple. ``backward`` then takes ONE
      gradient per tensor output, in the order of forward's return value with nested tuples flattened;
      each may be None (= zero: that output did not reach the loss). LSTM returns
      ``(output, (h_n, c_n))``, so ``backward(grad_output, grad_h_n=None, grad_c_n=None)``;
      MultiheadAttention returns ``(attn_output, attn_weights)``, so
      ``backward(grad_attn_output, grad_attn_weights=None)``.
    * ``backward`` returns the gradients of forward's tensor inputs: a single tensor when forward takes
      one tensor input; otherwise a tuple with one entry per tensor input of forward's positional
      signature, flattened the same way, None for an input that was not given or takes no gradient
      (indices, masks). LSTM: ``(grad_input, grad_h0, grad_c0)`` (grad_h0/grad_c0 None when hx was not
      given); GRU/RNN: ``(grad_input, grad_h0)``; MultiheadAttention: ``(grad_query, grad_key,
      grad_value)``: a caller that passed one tensor as query, key and value adds the three (as autograd
      would). Embedding's input is indices: its backward returns None.
    * Parameter gradients accumulate (``+=``) as everywhere. Backward hooks of such a module see every
      gradient: ``grad_output`` holds one entry per output, ``grad_input`` one per input (as torch's).
    """

    #: True for a module whose backward takes one gradient per output (the convention above)
    multi_tensor: bool = False

    training: bool
    replicas: int | None
    #: the hooks, by kind; None until one is registered (then a module call checks them)
    _hooks: dict | None = None

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "replicas", None)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        # Attributes stay ordinary instance attributes (fast lookups in the hot path);
        # the registries only remember names and order.
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            modules.pop(name, None)
            buffers.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in buffers:
            if value is not None and not isinstance(value, torch.Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} to buffer '{name}' (tensor or None expected)")
            buffers[name] = value
        elif name in params and value is None:
            params[name] = None
        elif name in params or name in modules:
            kind = "parameter" if name in params else "submodule"
            raise TypeError(f"cannot assign {type(value).__name__} to {kind} '{name}' of {self._get_name()}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor: torch.Tensor | None, persistent: bool = True) -> None:
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias of :meth:`add_module`, as in torch."""
        self.add_module(name, module)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is None:
            self._modules[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, module)

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{self._get_name()} has no forward()")

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{self._get_name()} has no backward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # keyword arguments as torch's: named as torch's forward parameters (``input``; ``input, target``)
        if self._hooks is None or not (self._hooks["forward_pre"] or self._hooks["forward"]):
            return self.forward(*args, **kwargs)
        return _hooks_impl.call_with_hooks(self, args, kwargs)

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False) -> RemovableHandle:
        """``hook(module, args)`` before each ``module(*args)``; returning a value replaces the
        arguments (a tuple, or one argument). Unlike torch, what a hook computes is not differentiated:
        ``backward`` gives the gradient with respect to the arguments the module received."""
        return _hooks_impl.register(self, "forward_pre", hook, prepend)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` after each ``module(*args)``; returning a value replaces the
        output (not differentiated, as for the pre-hook). E.g. collect every layer's activations."""
        return _hooks_impl.register(self, "forward", hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, *, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)`` before each ``backward``, with ``grad_output`` a one-element
        tuple (``(None,)`` for a loss's default seed 1); returning a tuple replaces it."""
        return _hooks_impl.register(self, "backward_pre", hook, prepend)

    def register_full_backward_hook(self, hook: Callable, *, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` after each ``backward``: one-element tuples of
        d loss / d input (``None`` where the input gradient was skipped, as autograd gives for an input
        that needs none) and of the ``grad_output`` given; returning a tuple replaces ``grad_input``.
        E.g. watch the gradient shrink or grow from layer to layer. (For a loss, torch's tuple also
        holds the target's gradient, None; mininet's holds the input's only.)"""
        return _hooks_impl.register(self, "backward", hook, prepend)

    def free_saved(self) -> None:
        """Drop every tensor that forward kept for backward, here and in every submodule.

        Useful after a forward whose backward will never run (evaluation), so the model holds no
        activations; a later ``backward`` then needs a new ``forward``.
        """
        attrs = self.__dict__
        for name in [k for k, v in attrs.items() if k[0] == "_" and k not in _REGISTRIES and _holds_tensor(v)]:
            attrs[name] = None
        for child in self._modules.values():
            if child is not None:
                child.free_saved()

    def _missing_forward(self) -> RuntimeError:
        return RuntimeError(f"{self._get_name()}.backward() called before forward(): nothing to differentiate")

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_prefix, module in modules:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, torch.Tensor]]:
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_prefix, module in modules:
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), b

    def buffers(self, recurse: bool = True) -> Iterator[torch.Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` (e.g. ``"0"``, ``"block.fc"``; ``""`` is this one)."""
        module = self
        for item in target.split(".") if target else []:
            child = module._modules.get(item)
            if child is None:
                raise AttributeError(f"{module._get_name()} has no submodule `{item}` (in {target!r})")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target``, e.g. ``"0.weight"``, as a state_dict key names it."""
        return self._get_entry(target, "_parameters", "parameter")

    def get_buffer(self, target: str) -> torch.Tensor:
        """The buffer at the dotted path ``target``, e.g. ``"1.running_mean"``."""
        return self._get_entry(target, "_buffers", "buffer")

    def _get_entry(self, target: str, registry: str, kind: str) -> Any:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        entry = getattr(module, registry).get(name)
        if entry is None:
            raise AttributeError(f"{module._get_name()} has no {kind} `{name}` (in {target!r})")
        return entry

    def apply(self, fn: Callable[[Module], object]) -> Module:
        """Call ``fn`` on every submodule, children first, then on this module (torch's order); returns
        this module. The usual way to initialise a whole model, e.g. the report's::

            def init_weights(m):
                if isinstance(m, mininet.Linear):
                    mininet.init.xavier_normal_(m.weight.data)
                    mininet.init.zeros_(m.bias.data)

            model.apply(init_weights)
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self, prefix: str = "") -> OrderedDict[str, torch.Tensor]:
        """Parameters then persistent buffers of each module, depth first: torch.nn's keys and order."""
        out: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._save_to_state_dict(out, prefix)
        return out

    def _save_to_state_dict(self, out: dict[str, torch.Tensor], prefix: str) -> None:
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p.data
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b
        for name, child in self._modules.items():
            if child is not None:
                child._save_to_state_dict(out, f"{prefix}{name}.")

    def load_state_dict(self, state_dict: Mapping[str, torch.Tensor], strict: bool = True) -> IncompatibleKeys:
        """Copy tensors into this module's parameters and buffers (in place, keeping dtype and device).

        As torch: with ``strict``, missing and unexpected keys are errors; a shape mismatch always is;
        every problem is named in one ``RuntimeError`` and nothing is copied then. Returns the
        ``(missing_keys, unexpected_keys)`` named tuple.
        """
        own = self._state_slots()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        for key, (module, name, is_param) in own.items():
            if key not in state_dict:
                continue
            src = state_dict[key]
            current = module._parameters[name].data if is_param else module._buffers[name]
            if tuple(src.shape) != tuple(current.shape):
                problems.append(f"size mismatch for {key}: copying a param with shape {tuple(src.shape)} from "
                                f"checkpoint, the shape in current model is {tuple(current.shape)}.")
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(problems))
        for key, (module, name, is_param) in own.items():
            if key in state_dict:
                target = module._parameters[name].data if is_param else module._buffers[name]
                target.copy_(state_dict[key].detach())
        return IncompatibleKeys(missing, unexpected)

    def _state_slots(self) -> dict[str, tuple[Module, str, bool]]:
        slots: dict[str, tuple[Module, str, bool]] = {}
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    slots[dot + name] = (module, name, True)
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    slots[dot + name] = (module, name, False)
        return slots

    # ------------------------------------------------------------------ modes and conversion
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter, here and in every submodule, as torch's
        ``requires_grad_``: a frozen parameter gets no gradient in backward and no optimizer update."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient (to ``None`` by default, as torch does)."""
        zero_grads(self.parameters(), set_to_none)

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move/cast parameters and buffers like ``torch.nn.Module.to``: ``to(dtype)``, ``to(device)``,
        ``to(device, dtype)``; integer buffers keep their dtype."""
        device, dtype, _, _ = torch._C._nn._parse_to(*args, **kwargs)

        def convert(t: torch.Tensor) -> torch.Tensor:
            if dtype is not None and t.is_floating_point():
                return t.to(device=device, dtype=dtype)
            return t.to(device=device)

        return self._apply(convert)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device: int | torch.device | None = None) -> Module:
        """Move to a GPU: the current one, or ``device`` (an index or a torch.device)."""
        return self.to(torch.device("cuda", device) if isinstance(device, int) else device or "cuda")

    def double(self) -> Module:
        return self.to(torch.float64)

    def float(self) -> Module:
        return self.to(torch.float32)

    def _apply(self, fn) -> Module:
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    p.data = fn(p.data)
                    if p.grad is not None:
                        p.grad = fn(p.grad)
            for name, b in list(m._buffers.items()):
                if b is not None:
                    setattr(m, name, fn(b))
        return self

    def replicate(self, n: int) -> Module:
        """Stack ``n`` independent copies of every parameter and buffer along a new leading dimension.

        Each copy starts as the current value; load a stacked state_dict (see
        :func:`mininet.stack_state_dicts`) to give each replica its own values. Inputs of the
        replicated model carry the replica dimension first: ``(n, batch, features)``.
        """
        if self.replicas is not None:
            raise RuntimeError(f"{self._get_name()} is already replicated ({self.replicas} replicas)")
        if n < 1:
            raise ValueError(f"replicate() needs n >= 1, got {n}")
        self._apply(lambda t: t.unsqueeze(0).repeat(n, *([1] * t.dim())))
        for m in self.modules():
            object.__setattr__(m, "replicas", n)
        return self

    # ------------------------------------------------------------------ repr
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if self.replicas is not None:
            extra = f"{extra}, replicas={self.replicas}" if extra else f"replicas={self.replicas}"
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        if not lines:
            return f"{self._get_name()}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{self._get_name()}(\n  {body}\n)"
