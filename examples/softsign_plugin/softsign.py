"""A plugin: the README's Softsign layer, written by hand for mininet, in specs as `softsign`.

torch.nn has Softsign, so the torch backend builds it from ``builds`` alone; mininet has no class of
that name, so the plugin says how the mininet backend builds its own.
"""

from typing import Literal

import mininet
from mininet.runner.registry import builder, spec_component
from mininet.runner.spec.base import Component


class Softsign(mininet.Module):
    """y = x / (1 + |x|);  dL/dx = dL/dy / (1 + |x|)^2"""

    def forward(self, x):
        self._denom = 1 + x.abs()  # what backward needs
        return x / self._denom

    def backward(self, grad_output):
        return grad_output / self._denom ** 2


@spec_component("layer")
class SoftsignSpec(Component):
    """x / (1 + |x|), element-wise (a plugin's layer)."""

    builds = "Softsign"
    type: Literal["softsign"] = "softsign"


@builder("mininet", "layer", "softsign")
def softsign(spec, dtype, device):
    return Softsign()
