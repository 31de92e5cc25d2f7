"""Sequential: modules chained forward, their backward chained in reverse."""

from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import torch

from .module import Module


class Sequential(Module):
    """A chain of modules.

    Forward:  y = m_n(... m_2(m_1(x)))
    Backward: dL/dx = m_1.backward(... m_n.backward(dL/dy)), the chain rule, last module first.

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

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), module)
        self._refresh()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self._chain:
            x = module(x)
        return x

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        for module in reversed(self._chain):
            grad_output = module.backward(grad_output)
        return grad_output

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int | slice) -> Module | Sequential:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return modules[idx]
