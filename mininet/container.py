"""Sequential: modules chained forward, their backward chained in reverse."""

from __future__ import annotations

import operator
from collections import OrderedDict
from typing import Any, Iterable, Iterator

import torch

from .module import Module


class Sequential(Module):
    """A chain of modules.

    Forward:  y = m_n(... m_2(m_1(x)))
    Backward: dL/dx = m_1.backward(... m_n.backward(dL/dy)), the chain rule, last module first
              (``backward(g, input_grad=False)`` skips what only dL/dx needs).

    Editing works as with torch.nn.Sequential: ``seq[i] = m``, ``del seq[i]`` (or a slice), ``append``,
    ``extend``, ``insert``, ``pop``; deleting or inserting renumbers the children 0..n-1, as torch does.
    A child assigned as an attribute (``seq.head = m``) joins the end of the chain, also as in torch.

    Args:
        *modules: the modules in order, or one ``OrderedDict`` of name -> module.

    Shape:
        whatever the chain maps: input of the first module, output of the last.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for idx, module in enumerate(modules):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {idx} is a {type(module).__name__}, "
                                    "not a mininet Module")
                self.add_module(str(idx), module)
        self._chain = list(self._modules.values())

    def _refresh(self) -> None:
        object.__setattr__(self, "_chain", list(self._modules.values()))

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in self._modules:  # a child added or replaced: the chain follows
            self._refresh()

    def __delattr__(self, name: str) -> None:
        was_child = name in self._modules
        super().__delattr__(name)
        if was_child:
            self._refresh()

    def _key(self, idx: int) -> str:
        """The name of the idx-th child (negative idx counts from the end, as for a list)."""
        n = len(self._modules)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"Sequential: index {idx} is out of range for {n} modules")
        return list(self._modules)[idx % n]

    def _renumber(self, modules: list[Module]) -> None:
        """Make ``modules`` the children, named "0".."n-1"."""
        for name in list(self._modules):
            delattr(self, name)
        for i, module in enumerate(modules):
            self.add_module(str(i), module)
        self._refresh()

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named by its position)."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Append every module of ``modules`` (another Sequential, a list, ...), in order."""
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Put ``module`` at position ``index`` (-n <= index <= n); later children move one down."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.insert: expected a mininet Module, got {type(module).__name__}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {n} modules")
        modules = list(self._modules.values())
        modules.insert(index + n if index < 0 else index, module)
        self._renumber(modules)
        return self

    def pop(self, idx: int) -> Module:
        """Remove and return the idx-th child."""
        module = self[idx]
        del self[idx]
        return module

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        for module in self._chain:
            input = module(input)
        return input

    def backward(self, grad_output: torch.Tensor, input_grad: bool = True) -> torch.Tensor | None:
        """Chain the modules' backward passes, last module first.

        With ``input_grad=False`` (a training step, where nothing needs d loss / d input) the chain
        stops at the first module that has parameters, and a Linear there skips its input-gradient
        matrix product, as autograd does for an input that does not require grad. Returns ``None``.
        """
        chain = self._chain
        stop = 0
        if not input_grad:
            stop = next((i for i, m in enumerate(chain) if m._parameters or m._modules), len(chain))
        for i in range(len(chain) - 1, stop - 1, -1):
            module = chain[i]
            if i == stop and not input_grad:
                if isinstance(module, Sequential) or getattr(module, "can_skip_input_grad", False):
                    module.backward(grad_output, input_grad=False)
                else:
                    module.backward(grad_output)
                return None
            grad_output = module.backward(grad_output)
        return grad_output if input_grad else None

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int | slice) -> Module | Sequential:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: cannot put a {type(module).__name__} at index {idx}: "
                            "a mininet Module expected")
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._key(idx)]
        self._renumber([m for name, m in self._modules.items() if name not in keys])


class ModuleList(Module):
    """Modules held in a list, registered as children "0".."n-1" (torch.nn.ModuleList's state_dict keys).

    It has no forward or backward of its own: the module holding it calls its entries, as in torch.

    Args:
        modules: an iterable of modules (optional).
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for module in modules or ():
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.append: expected a mininet Module, got {type(module).__name__}")
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int) -> Module:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return self._modules[str(idx % n)]

    def __repr__(self) -> str:
        """torch's: runs of children with the same repr are printed once, as ``(0-2): 3 x Layer(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return f"{self._get_name()}()"
        runs: list[list] = []  # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}").replace("\n", "\n  ")
                 for a, b, r in runs]
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"
