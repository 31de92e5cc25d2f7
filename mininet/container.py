"""Sequential: modules chained forward, their backward chained in reverse."""

from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import torch

from .module import Module


class Sequential(Module):
    """A chain of modules.

    Forward:  y = m_n(... m_2(m_1(x)))
    Backward: dL/dx = m_1.backward(... m_n.backward(dL/dy)), the chain rule, last module first
              (``backward(g, input_grad=False)`` skips what only dL/dx needs).

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
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return modules[idx]
