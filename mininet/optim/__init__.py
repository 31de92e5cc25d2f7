"""mininet.optim: torch.optim's optimizers, with torch.optim's update rules."""

from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD"]
