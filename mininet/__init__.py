"""mininet: neural-network modules with hand-written backward passes, torch.nn's API and numbers.

    from mininet import Linear, ReLU, Sequential, CrossEntropyLoss
    from mininet.optim import SGD
"""

from . import init, optim
from .activation import ReLU, Tanh
from .container import Sequential
from .linear import Identity, Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import Module
from .parameter import Parameter
from .replicas import stack_state_dicts, unstack_state_dict

__version__ = "0.1.0"

__all__ = [
    "Module", "Parameter", "Sequential",
    "Linear", "Identity",
    "ReLU", "Tanh",
    "MSELoss", "CrossEntropyLoss",
    "init", "optim",
    "stack_state_dicts", "unstack_state_dict",
]
